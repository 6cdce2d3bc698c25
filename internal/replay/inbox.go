package replay

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/access911/access911-infra/contract"
)

// InboxOptions says which failed inbox events to re-drive. The failure
// queue holds the records Lambda sends to the intake function's
// asynchronous on-failure destination: each names, in its requestPayload,
// the S3 event of a provider delivery the function failed after every
// retry. The delivery itself is still in the inbox (the function keeps what
// it could not store, and the inbox keeps it longer than the queue keeps
// the record).
type InboxOptions struct {
	SQS         *sqs.Client
	S3          *s3.Client
	FailuresURL string
	// Apply re-drives the deliveries; without it nothing changes.
	Apply bool
	// Max bounds how many records one run handles (0: all).
	Max int
	Log io.Writer
}

// InboxReport is what a run found and did.
type InboxReport struct {
	// Found are the failure records read; Deliveries the inbox objects
	// they name.
	Found, Deliveries int
	// Redriven deliveries were copied onto themselves, which S3 announces
	// as a new ObjectCreated event: the function processes each again
	// (idempotently: a call already stored is stored once).
	Redriven int
	// Gone deliveries are no longer in the inbox: processed since (the
	// function deletes what it stored) or expired.
	Gone int
	Keys []string
}

// failureRecord is the part of Lambda's asynchronous invocation record
// replay reads (Lambda developer guide, invocation-async-retain-records).
type failureRecord struct {
	RequestContext struct {
		Condition string `json:"condition"`
	} `json:"requestContext"`
	RequestPayload events.S3Event `json:"requestPayload"`
}

// RunInbox lists the failed inbox events and, with Apply, re-drives each
// delivery and then deletes its record: a crash in between leaves the
// record, and a second re-drive is harmless.
func RunInbox(ctx context.Context, o InboxOptions) (InboxReport, error) {
	var r InboxReport
	var held []types.ChangeMessageVisibilityBatchRequestEntry
	defer func() {
		release(context.WithoutCancel(ctx), Options{Client: o.SQS, DLQURL: o.FailuresURL, Log: o.Log}, held)
	}()
	for o.Max == 0 || r.Found < o.Max {
		msgs, err := receive(ctx, Options{Client: o.SQS, DLQURL: o.FailuresURL}, 60*time.Second)
		if err != nil || len(msgs) == 0 {
			return r, err
		}
		for _, m := range msgs {
			r.Found++
			done, err := redriveRecord(ctx, o, aws.ToString(m.Body), &r)
			if err != nil {
				return r, err
			}
			if !done {
				held = append(held, types.ChangeMessageVisibilityBatchRequestEntry{
					Id: aws.String(fmt.Sprint(len(held))), ReceiptHandle: m.ReceiptHandle, VisibilityTimeout: 0})
				continue
			}
			if _, err := o.SQS.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(o.FailuresURL), ReceiptHandle: m.ReceiptHandle}); err != nil {
				return r, fmt.Errorf("re-driven, but the record was not deleted (a second re-drive is harmless): %w", err)
			}
		}
	}
	return r, nil
}

// redriveRecord handles one failure record; done means its record may go.
func redriveRecord(ctx context.Context, o InboxOptions, body string, r *InboxReport) (bool, error) {
	var rec failureRecord
	if err := json.Unmarshal([]byte(body), &rec); err != nil || len(rec.RequestPayload.Records) == 0 {
		if o.Log != nil {
			fmt.Fprintf(o.Log, "a record that names no S3 event is left in the queue: %.120s\n", body)
		}
		return false, nil
	}
	for _, ev := range rec.RequestPayload.Records {
		key, err := url.QueryUnescape(ev.S3.Object.Key) // event keys are URL-encoded
		if err != nil || !strings.HasPrefix(key, contract.InboxPrefix) {
			continue
		}
		r.Deliveries++
		r.Keys = append(r.Keys, key)
		if !o.Apply {
			continue
		}
		gone, err := redriveDelivery(ctx, o.S3, ev.S3.Bucket.Name, key)
		if err != nil {
			return false, err
		}
		if gone {
			r.Gone++
		} else {
			r.Redriven++
		}
	}
	return o.Apply, nil
}

// redriveDelivery copies an inbox object onto itself, keeping its
// signature and recording its original arrival (the signature is judged
// against it: contract.InboxReceivedMetadata), which makes S3 invoke the
// function again. gone reports an object no longer there.
func redriveDelivery(ctx context.Context, client *s3.Client, bucket, key string) (gone bool, err error) {
	head, err := client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	var missing *s3types.NotFound
	if errors.As(err, &missing) {
		return true, nil
	}
	if err != nil {
		return false, fmt.Errorf("head s3://%s/%s: %w", bucket, key, err)
	}
	metadata := map[string]string{}
	for k, v := range head.Metadata {
		metadata[k] = v
	}
	if _, ok := metadata[contract.InboxReceivedMetadata]; !ok {
		metadata[contract.InboxReceivedMetadata] = aws.ToTime(head.LastModified).UTC().Format(time.RFC3339Nano)
	}
	_, err = client.CopyObject(ctx, &s3.CopyObjectInput{
		Bucket: aws.String(bucket), Key: aws.String(key),
		CopySource:        aws.String(bucket + "/" + strings.ReplaceAll(url.PathEscape(key), "%2F", "/")),
		MetadataDirective: s3types.MetadataDirectiveReplace, Metadata: metadata, ContentType: head.ContentType,
	})
	if err != nil {
		return false, fmt.Errorf("re-drive s3://%s/%s: %w", bucket, key, err)
	}
	return false, nil
}
