package drill

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"

	"github.com/access911/access911-infra/contract"
)

// The metrics the drill reads (CloudWatch, in the region that publishes them).
const (
	// DynamoDB publishes ReplicationLatency (ms) in the region a write was
	// made, per ReceivingRegion.
	dynamoDBNamespace   = "AWS/DynamoDB"
	replicationLatency  = "ReplicationLatency"
	receivingRegionDim  = "ReceivingRegion"
	tableNameDim        = "TableName"
	s3Namespace         = "AWS/S3"
	pendingReplication  = "OperationsPendingReplication"
	metricLookback      = 5 * time.Minute
	catchUpPollInterval = time.Second
	// leftRegionReadTimeout bounds the one read of the region being left.
	leftRegionReadTimeout = 10 * time.Second
)

var errNoDatapoints = errors.New("no datapoints")

// latest is the newest datapoint's statistic of a metric over the lookback.
func latest(ctx context.Context, cw *cloudwatch.Client, namespace, metric string, stat cwtypes.Statistic, dims map[string]string) (float64, error) {
	var dimensions []cwtypes.Dimension
	for _, k := range sortedKeys(dims) {
		dimensions = append(dimensions, cwtypes.Dimension{Name: aws.String(k), Value: aws.String(dims[k])})
	}
	now := time.Now()
	out, err := cw.GetMetricStatistics(ctx, &cloudwatch.GetMetricStatisticsInput{
		Namespace: aws.String(namespace), MetricName: aws.String(metric), Dimensions: dimensions,
		StartTime: aws.Time(now.Add(-metricLookback)), EndTime: aws.Time(now.Add(time.Minute)),
		Period: aws.Int32(60), Statistics: []cwtypes.Statistic{stat},
	})
	if err != nil {
		return 0, fmt.Errorf("%s %s: %w", namespace, metric, err)
	}
	if len(out.Datapoints) == 0 {
		return 0, errNoDatapoints
	}
	sort.Slice(out.Datapoints, func(i, j int) bool { return out.Datapoints[i].Timestamp.After(*out.Datapoints[j].Timestamp) })
	p := out.Datapoints[0]
	switch stat {
	case cwtypes.StatisticMaximum:
		return aws.ToFloat64(p.Maximum), nil
	default:
		return aws.ToFloat64(p.Average), nil
	}
}

// replicationLag is DynamoDB's latest ReplicationLatency from one region's
// replica to another, read in the sending region.
func (r *runner) replicationLag(ctx context.Context, from Region, to string) (time.Duration, error) {
	ms, err := latest(ctx, r.o.Clients.CloudWatch(from.Region), dynamoDBNamespace, replicationLatency, cwtypes.StatisticMaximum,
		map[string]string{tableNameDim: from.TableName, receivingRegionDim: to})
	return time.Duration(ms * float64(time.Millisecond)), err
}

// rpo reads the replication latency from the region being left to the
// target: a read of from's CloudWatch, never a write into from. A region
// that does not answer leaves the RPO unknown (--force proceeds).
func (r *runner) rpo(ctx context.Context, from string, to Region) (string, error) {
	// The region being left may be down: a partition answers nothing, and the
	// SDK's dial timeout times its retries would hold the drill for minutes.
	ctx, cancel := context.WithTimeout(ctx, leftRegionReadTimeout)
	defer cancel()
	lag, err := r.replicationLag(ctx, r.o.Inventory.Regions[from], to.Region)
	switch {
	case errors.Is(err, errNoDatapoints):
		return fmt.Sprintf("no replicated writes %s -> %s in the last %s: nothing in flight", from, to.Region, metricLookback), nil
	case err != nil:
		r.rep.RPOError = fmt.Sprintf("%s does not answer: %v", from, err)
		return "", errors.New(r.rep.RPOError)
	}
	ms := lag.Milliseconds()
	r.rep.RPOMillis = &ms
	if lag > r.o.RPOBound {
		return "", fmt.Errorf("replication lag %s -> %s is %s, past the bound %s", from, to.Region, lag.Round(time.Millisecond), r.o.RPOBound)
	}
	return fmt.Sprintf("ReplicationLatency %s -> %s: %s (bound %s)", from, to.Region, lag.Round(time.Millisecond), r.o.RPOBound), nil
}

// caughtUp waits until a region being turned back on has received what it
// missed: the table's replication from the serving region to it within the
// bound, and its archive's pending replication drained.
func (r *runner) caughtUp(ctx context.Context, serving, region string) (string, error) {
	inv := r.o.Inventory
	deadline := time.Now().Add(r.o.VerifyWait)
	for {
		table, tableErr := r.tableCaughtUp(ctx, inv.Regions[serving], region)
		archive, archiveErr := r.archiveDrained(ctx, inv.Regions[region])
		if tableErr == nil && archiveErr == nil {
			return table + "; " + archive, nil
		}
		if time.Now().After(deadline) {
			return "", errors.Join(tableErr, archiveErr)
		}
		if err := sleep(ctx, catchUpPollInterval); err != nil {
			return "", err
		}
	}
}

func (r *runner) tableCaughtUp(ctx context.Context, serving Region, region string) (string, error) {
	if serving.Region == region {
		return "table: " + region + " takes the writes itself", nil
	}
	lag, err := r.replicationLag(ctx, serving, region)
	switch {
	case errors.Is(err, errNoDatapoints):
		return fmt.Sprintf("table: no replicated writes %s -> %s in the last %s", serving.Region, region, metricLookback), nil
	case err != nil:
		return "", fmt.Errorf("table replication %s -> %s: %w", serving.Region, region, err)
	case lag > r.o.RPOBound:
		return "", fmt.Errorf("table replication %s -> %s lags %s (bound %s)", serving.Region, region, lag.Round(time.Millisecond), r.o.RPOBound)
	}
	return fmt.Sprintf("table: ReplicationLatency %s -> %s %s", serving.Region, region, lag.Round(time.Millisecond)), nil
}

// archiveDrained reads S3's OperationsPendingReplication of the region's
// archive (replication metrics are on: the archive component enables them).
func (r *runner) archiveDrained(ctx context.Context, reg Region) (string, error) {
	if reg.ArchiveReplicaBucketName == "" {
		return "archive: no replica bucket in the stack outputs", nil
	}
	pending, err := latest(ctx, r.o.Clients.CloudWatch(reg.Region), s3Namespace, pendingReplication, cwtypes.StatisticMaximum, map[string]string{
		"SourceBucket": reg.ArchiveBucketName, "DestinationBucket": reg.ArchiveReplicaBucketName, "RuleId": contract.ArchiveReplicationRuleID})
	switch {
	case errors.Is(err, errNoDatapoints):
		return "archive: no pending replication reported in the last " + metricLookback.String(), nil
	case err != nil:
		return "", fmt.Errorf("archive %s: %w", reg.ArchiveBucketName, err)
	case pending > 0:
		return "", fmt.Errorf("archive %s has %.0f operations pending replication", reg.ArchiveBucketName, pending)
	}
	return "archive: " + strings.TrimSpace(fmt.Sprintf("%s drained (0 pending)", reg.ArchiveBucketName)), nil
}
