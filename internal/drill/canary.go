package drill

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/access911/access911-infra/contract"
)

// canary posts a call as our clients do (through the shared hostname with
// ThroughName, else to the target's API) and waits until it is stored in the
// target's table; the time it is seen stored is the end of the RTO. The
// canary is deleted afterwards, and the feed never broadcasts it
// (contract.IsCanaryID).
func (r *runner) canary(ctx context.Context, to Region) (time.Time, string, error) {
	key, err := r.apiKey(ctx, to)
	if err != nil {
		return time.Time{}, "", err
	}
	base := to.APIURL
	if r.o.ThroughName {
		base = "https://" + strings.TrimSuffix(r.o.Inventory.Hostname, ".")
	}
	now := time.Now()
	id := contract.CanaryIDPrefix + strconv.FormatInt(now.UnixNano(), 10)
	body, _ := json.Marshal(map[string]any{
		"conversation_id": id, "timestamp": now.Unix(), "location": "DR drill canary", "latitude": 0, "longitude": 0,
		"emergency_type": "other", "severity": 1, "call_duration_secs": 0,
	})
	db := r.o.Clients.DynamoDB(to.Region)
	itemKey := map[string]ddbtypes.AttributeValue{
		contract.TableHashKey:  &ddbtypes.AttributeValueMemberS{Value: id},
		contract.TableRangeKey: &ddbtypes.AttributeValueMemberN{Value: strconv.FormatInt(now.Unix(), 10)},
	}
	defer func() {
		_, _ = db.DeleteItem(context.Background(), &dynamodb.DeleteItemInput{TableName: aws.String(to.TableName), Key: itemKey})
	}()
	deadline := now.Add(r.o.VerifyWait)
	status, err := r.postCall(ctx, base, key, body)
	for err != nil && time.Now().Before(deadline) { // DNS may still point at the region being left
		if serr := sleep(ctx, 500*time.Millisecond); serr != nil {
			return time.Time{}, "", serr
		}
		status, err = r.postCall(ctx, base, key, body)
	}
	if err != nil {
		return time.Time{}, "", err
	}
	for {
		out, err := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(to.TableName), Key: itemKey, ConsistentRead: aws.Bool(true)})
		if err != nil {
			return time.Time{}, "", fmt.Errorf("read the canary in %s: %w", to.Region, err)
		}
		if len(out.Item) > 0 {
			stored := time.Now()
			// The handler stamps the region that took the call: a canary taken
			// elsewhere (DNS still answering the region left) and replicated
			// here is no proof that callers reach the target.
			if by, _ := out.Item["region"].(*ddbtypes.AttributeValueMemberS); by == nil || by.Value != to.Region {
				return time.Time{}, "", fmt.Errorf("canary %s was taken by %v, not %s: callers do not reach %s yet", id, regionOf(by), to.Region, to.Region)
			}
			return stored, fmt.Sprintf("POST %s%s answered %d; taken and stored by %s after %s", base, contract.CreateCall.Path, status, to.Region,
				stored.Sub(now).Round(time.Millisecond)), nil
		}
		if time.Now().After(deadline) {
			return time.Time{}, "", fmt.Errorf("canary %s (answered %d) not stored in %s after %s", id, status, to.Region, r.o.VerifyWait)
		}
		if err := sleep(ctx, 100*time.Millisecond); err != nil {
			return time.Time{}, "", err
		}
	}
}

// postCall posts one call; 201 (stored) and 202 (queued, stored by the
// drain) are acknowledgements.
func (r *runner) postCall(ctx context.Context, base, key string, body []byte) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimSuffix(base, "/")+contract.CreateCall.Path, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(contract.APIKeyHeader, key)
	resp, err := r.o.Clients.HTTP.Do(req)
	if err != nil {
		return 0, fmt.Errorf("POST %s: %v", contract.CreateCall.Path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusCreated && resp.StatusCode != http.StatusAccepted {
		return resp.StatusCode, fmt.Errorf("POST %s answered %d", contract.CreateCall.Path, resp.StatusCode)
	}
	return resp.StatusCode, nil
}

func regionOf(v *ddbtypes.AttributeValueMemberS) string {
	if v == nil {
		return "no region"
	}
	return v.Value
}
