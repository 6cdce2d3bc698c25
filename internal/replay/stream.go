package replay

import (
	"context"
	"encoding/json"
	"fmt"
	"io"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/access911/access911-infra/internal/emulator/esm"
)

// StreamOptions says which discarded stream batches to re-broadcast. The
// swarm's stream mapping writes a record of each batch it gave up on
// (every retry failed, or a record grew older than the mapping's maximum
// age) into the failure bucket under aws/lambda/; the record carries the
// batch itself. Re-invoking the swarm with it broadcasts those calls; the
// workers' delivery ledger skips every partition that already got one.
type StreamOptions struct {
	S3     *s3.Client
	Bucket string
	// Prefix narrows the records (default aws/lambda/, all mappings').
	Prefix string
	// Invoke hands a batch to the swarm (deployed: Lambda Invoke of the
	// swarm function, see LambdaInvoker).
	Invoke func(ctx context.Context, ev events.DynamoDBEvent) error
	// Apply re-broadcasts, then deletes each record; without it nothing
	// changes.
	Apply bool
	Max   int
	Log   io.Writer
}

// StreamReport is what a run found and did.
type StreamReport struct {
	// Records are the failure records read, Calls the new calls (INSERTs)
	// in them, Redriven the records re-broadcast and deleted.
	Records, Calls, Redriven int
	IDs                      []string
}

// RunStreamFailures lists the failure records and, with Apply, hands each
// batch to the swarm and then deletes the record: a crash in between keeps
// the record, and a second run posts nothing twice (the ledger).
func RunStreamFailures(ctx context.Context, o StreamOptions) (StreamReport, error) {
	var r StreamReport
	prefix := o.Prefix
	if prefix == "" {
		prefix = "aws/lambda/"
	}
	pages := s3.NewListObjectsV2Paginator(o.S3, &s3.ListObjectsV2Input{Bucket: aws.String(o.Bucket), Prefix: aws.String(prefix)})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return r, fmt.Errorf("list s3://%s/%s: %w", o.Bucket, prefix, err)
		}
		for _, obj := range page.Contents {
			if o.Max > 0 && r.Records >= o.Max {
				return r, nil
			}
			if err := rebroadcast(ctx, o, aws.ToString(obj.Key), &r); err != nil {
				return r, err
			}
		}
	}
	return r, nil
}

func rebroadcast(ctx context.Context, o StreamOptions, key string, r *StreamReport) error {
	out, err := o.S3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(o.Bucket), Key: aws.String(key)})
	if err != nil {
		return fmt.Errorf("read %s: %w", key, err)
	}
	var rec esm.LambdaFailureRecord
	err = json.NewDecoder(out.Body).Decode(&rec)
	_ = out.Body.Close()
	if err != nil {
		return fmt.Errorf("%s is not a Lambda failure record: %w", key, err)
	}
	ev, err := rec.Event()
	if err != nil {
		return fmt.Errorf("%s: %w (a record from an SQS or SNS destination carries no batch)", key, err)
	}
	r.Records++
	for _, e := range ev.Records {
		if e.EventName == string(events.DynamoDBOperationTypeInsert) {
			r.Calls++
			if id, ok := e.Change.NewImage["conversation_id"]; ok {
				r.IDs = append(r.IDs, id.String())
			}
		}
	}
	if o.Log != nil {
		fmt.Fprintf(o.Log, "%s: %s, %d records, shard %s\n", key, rec.RequestContext.Condition, len(ev.Records), rec.BatchInfo.ShardID)
	}
	if !o.Apply {
		return nil
	}
	if err := o.Invoke(ctx, ev); err != nil {
		return fmt.Errorf("re-broadcast %s: %w", key, err)
	}
	if _, err := o.S3.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(o.Bucket), Key: aws.String(key)}); err != nil {
		return fmt.Errorf("re-broadcast %s, but could not delete it (a second run posts nothing twice): %w", key, err)
	}
	r.Redriven++
	return nil
}

// NewStreamClients are the S3 and Lambda clients of region (endpoint, if
// set, an emulator's).
func NewStreamClients(ctx context.Context, region, endpoint string) (*s3.Client, *lambda.Client, error) {
	cfg, err := awsconfig.LoadDefaultConfig(ctx, awsconfig.WithRegion(region))
	if err != nil {
		return nil, nil, fmt.Errorf("aws config: %w", err)
	}
	s3Client := s3.NewFromConfig(cfg, func(o *s3.Options) {
		if endpoint != "" {
			o.BaseEndpoint, o.UsePathStyle = aws.String(endpoint), true
		}
	})
	lambdaClient := lambda.NewFromConfig(cfg, func(o *lambda.Options) {
		if endpoint != "" {
			o.BaseEndpoint = aws.String(endpoint)
		}
	})
	return s3Client, lambdaClient, nil
}
