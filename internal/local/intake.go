package local

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/access911/access911-infra/app/intake"
	"github.com/access911/access911-infra/app/metrics"
	"github.com/access911/access911-infra/app/store"
	"github.com/access911/access911-infra/capacity"
	"github.com/access911/access911-infra/internal/emulator"
	"github.com/access911/access911-infra/internal/emulator/esm"
	"github.com/access911/access911-infra/stacks/stackconfig"
)

// Local intake sizing. moto's SQS scans the whole queue on every call, so
// it slows as a backlog grows (measured here: SendMessageBatch about 350
// messages/s on an empty queue, 64/s with 1000 queued): four pollers and a
// short drain timeout keep the local run representative without pretending
// to be AWS's throughput.
const (
	LocalDrainConcurrency = 4
	LocalDrainTimeout     = 10 * time.Second
	// LocalQueuePrefix names the local queues: <prefix>-<run> and
	// <prefix>-<run>-dlq, one pair per server, so runs sharing a moto
	// never share a queue.
	LocalQueuePrefix = "access911-intake"
)

// Intake is the local durable intake: the queue and its dead-letter queue
// on moto's SQS with the stack's redrive, and the drain function fed by an
// emulated event source mapping.
type Intake struct {
	Client   *sqs.Client
	QueueURL string
	DLQURL   string
	Queue    *intake.SQSQueue
	Drainer  *intake.Drainer
	Mapping  *esm.SQSMapping
	// Endpoint is moto's, which the feed's failure bucket shares.
	Endpoint string

	moto         *emulator.Server // started by this run, else nil
	cancel       context.CancelFunc
	region       string
	queueARN     string
	drainTimeout time.Duration
}

// IntakeOptions configures the local intake.
type IntakeOptions struct {
	// SQSEndpoint is a running moto; empty starts one.
	SQSEndpoint string
	// Mode overrides the stack's intake mode (contract.IntakeModes).
	Mode string
	// DrainTimeout overrides LocalDrainTimeout; the visibility timeout is
	// six times it, as in AWS (tests shorten both).
	DrainTimeout time.Duration
	// VisibilityTimeout overrides that (a test that wants redelivery sooner).
	VisibilityTimeout time.Duration
	// Concurrency overrides LocalDrainConcurrency; 0 keeps it, -1 starts no
	// drainer (tests drive it themselves).
	Concurrency int
}

// NewSQSClient is an SQS client for an emulator at endpoint.
func NewSQSClient(endpoint, region string) *sqs.Client {
	return sqs.New(sqs.Options{Region: region, BaseEndpoint: aws.String(endpoint),
		Credentials: credentials.NewStaticCredentialsProvider("local", "local", "")})
}

// startIntake creates the queues (as the IntakeQueue component defines
// them, without KMS) and starts the drainer on st.
func startIntake(ctx context.Context, o IntakeOptions, cfg stackconfig.Config, st *store.Store, logw io.Writer) (*Intake, error) {
	in := &Intake{region: cfg.Region}
	endpoint := o.SQSEndpoint
	if endpoint == "" {
		var err error
		if in.moto, err = emulator.StartMoto(ctx); err != nil {
			return nil, fmt.Errorf("the local intake queue needs moto's server (pip install 'moto[server]'): %w", err)
		}
		endpoint = in.moto.URL
	}
	in.Client, in.Endpoint = NewSQSClient(endpoint, cfg.Region), endpoint
	in.drainTimeout = o.DrainTimeout
	if in.drainTimeout == 0 {
		in.drainTimeout = LocalDrainTimeout
	}
	vt := o.VisibilityTimeout
	if vt == 0 {
		vt = capacity.VisibilityTimeoutFactor * in.drainTimeout
	}
	if err := in.createQueues(ctx, cfg.IntakeMaxReceiveCount, vt); err != nil {
		in.Close()
		return nil, err
	}
	in.Queue = &intake.SQSQueue{Client: in.Client, URL: in.QueueURL}
	in.Drainer = &intake.Drainer{Store: st, Metrics: &metrics.Emitter{W: logw}, Log: slog.New(slog.NewJSONHandler(logw, nil))}
	concurrency := o.Concurrency
	if concurrency == 0 {
		concurrency = LocalDrainConcurrency
	}
	in.Mapping = in.NewMapping(in.Drainer.Handle, concurrency, cfg, vt)
	mctx, cancel := context.WithCancel(context.Background())
	in.cancel = cancel
	if concurrency > 0 {
		in.Mapping.Start(mctx)
	}
	return in, nil
}

func (in *Intake) createQueues(ctx context.Context, maxReceive int, vt time.Duration) error {
	name := LocalQueuePrefix + "-" + strconv.FormatInt(time.Now().UnixNano()%1e12, 36)
	retention := strconv.Itoa(capacity.QueueRetentionDays * 24 * 3600)
	dlqName := name + "-dlq"
	dlq, err := in.Client.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(dlqName),
		Attributes: map[string]string{string(types.QueueAttributeNameMessageRetentionPeriod): strconv.Itoa(capacity.DeadLetterRetentionDays * 24 * 3600)}})
	if err != nil {
		return fmt.Errorf("create %s: %w", dlqName, err)
	}
	in.DLQURL = aws.ToString(dlq.QueueUrl)
	attrs, err := in.Client.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: dlq.QueueUrl,
		AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameQueueArn}})
	if err != nil {
		return fmt.Errorf("%s arn: %w", dlqName, err)
	}
	redrive, _ := json.Marshal(map[string]any{"deadLetterTargetArn": attrs.Attributes[string(types.QueueAttributeNameQueueArn)],
		"maxReceiveCount": strconv.Itoa(maxReceive)})
	q, err := in.Client.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name), Attributes: map[string]string{
		string(types.QueueAttributeNameMessageRetentionPeriod): retention,
		string(types.QueueAttributeNameVisibilityTimeout):      strconv.Itoa(int(vt / time.Second)),
		string(types.QueueAttributeNameRedrivePolicy):          string(redrive),
	}})
	if err != nil {
		return fmt.Errorf("create %s: %w", name, err)
	}
	in.QueueURL, in.queueARN = aws.ToString(q.QueueUrl), "arn:aws:sqs:"+in.region+":000000000000:"+name
	return nil
}

// NewMapping is an emulated event source mapping on the intake queue with
// the stack's batch and window, handing batches to fn.
func (in *Intake) NewMapping(fn func(context.Context, events.SQSEvent) (events.SQSEventResponse, error), concurrency int,
	cfg stackconfig.Config, vt time.Duration) *esm.SQSMapping {
	return &esm.SQSMapping{Client: in.Client, QueueURL: in.QueueURL, QueueARN: in.queueARN, Function: fn,
		BatchSize: cfg.IntakeBatchSize, Window: time.Duration(cfg.IntakeBatchWindowSeconds) * time.Second,
		Concurrency: concurrency, VisibilityTimeout: vt, FunctionTimeout: in.drainTimeout}
}

// Depths are the visible and in-flight messages of the queue and the DLQ.
func (in *Intake) Depths(ctx context.Context) (queued, inFlight, dead int, err error) {
	count := func(url string, name types.QueueAttributeName) (int, error) {
		out, err := in.Client.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(url),
			AttributeNames: []types.QueueAttributeName{name}})
		if err != nil {
			return 0, err
		}
		return strconv.Atoi(out.Attributes[string(name)])
	}
	if queued, err = count(in.QueueURL, types.QueueAttributeNameApproximateNumberOfMessages); err != nil {
		return
	}
	if inFlight, err = count(in.QueueURL, types.QueueAttributeNameApproximateNumberOfMessagesNotVisible); err != nil {
		return
	}
	dead, err = count(in.DLQURL, types.QueueAttributeNameApproximateNumberOfMessages)
	return
}

// Close stops the drainer and moto if this run started it.
func (in *Intake) Close() {
	if in.cancel != nil {
		in.cancel()
		in.Mapping.Wait()
	}
	if in.moto != nil {
		in.moto.Stop()
	}
}
