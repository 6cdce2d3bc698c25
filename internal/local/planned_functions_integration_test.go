//go:build integration

package local

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/access911/access911-infra/artifact"
	"github.com/access911/access911-infra/contract"
	"github.com/access911/access911-infra/internal/plan"
	"github.com/access911/access911-infra/stacks"
	"github.com/access911/access911-infra/stacks/stackconfig"
)

// Every Lambda function of every stack's plan, with the read cache off and
// on, starts: the real bootstrap under the Runtime Interface Emulator with
// exactly the environment the plan gives it (the plan's values are the
// offline placeholders of what is known after deployment), invoked with an
// event of its trigger's kind. What the invocation then does may fail (no
// AWS is reachable here: every endpoint is a closed loopback port); a
// function that exits before it can take the event fails the test.
func TestEveryPlannedFunctionStartsUnderTheRuntimeEmulator(t *testing.T) {
	root, err := artifact.FindUp(".", "go.mod")
	require.NoError(t, err)
	proj, err := plan.LoadProject(root)
	require.NoError(t, err)
	started := 0
	slots := make(chan struct{}, 6) // the functions mostly wait on refused connections: six at a time
	t.Cleanup(func() {
		assert.Equal(t, 3*(8+10), started, "every function of the six plans: the intake and drain, the feed's six, and the cache's two")
	})
	for _, stack := range []string{"us-east-1", "us-west-2", "eu-west-1"} {
		for _, cache := range []string{stackconfig.ReadCacheNone, stackconfig.ReadCacheValkey} {
			raw, err := proj.StackConfig(stack)
			require.NoError(t, err)
			raw.Values[stackconfig.KeyReadCache] = cache
			res, err := plan.Run(proj.Name(), stack, raw.Values, stacks.Build)
			require.NoError(t, err, "%s readCache %s", stack, cache)
			for _, fn := range res.ByType("aws:lambda/function:Function") {
				t.Run(fmt.Sprintf("%s/%s/%s", stack, cache, fn.Name), func(t *testing.T) {
					t.Parallel()
					slots <- struct{}{}
					defer func() { <-slots }()
					startPlannedFunction(t, stack, fn)
				})
				started++
			}
		}
	}
}

// startPlannedFunction runs one planned function and invokes it once.
func startPlannedFunction(t *testing.T, region string, fn plan.Resource) {
	vars, _ := plan.Lookup(fn.Inputs, "environment.variables").(map[string]any)
	env := []string{"AWS_ENDPOINT_URL=http://127.0.0.1:9"} // nothing leaves the machine
	keys := make([]string, 0, len(vars))
	for k := range vars {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		env = append(env, k+"="+fmt.Sprint(vars[k]))
	}
	getenv := func(k string) string { s, _ := vars[k].(string); return s }
	kind := contract.FunctionKind(getenv)
	f := runUnderRIE(t, append(env, "AWS_REGION="+region)...)
	raw, err := f.Invoke(context.Background(), triggerEvent(kind, fn.Name))
	require.NoError(t, err, "%s (%s) did not answer: %s", fn.Name, kind, f.Log())
	var answer struct {
		ErrorType    string `json:"errorType"`
		ErrorMessage string `json:"errorMessage"`
	}
	_ = json.Unmarshal(raw, &answer)
	assert.False(t, strings.HasPrefix(answer.ErrorType, "Runtime."), "%s (%s) failed to start: %s %s\n%s",
		fn.Name, kind, answer.ErrorType, answer.ErrorMessage, f.Log())
	assert.NotContains(t, f.Log(), "lacks what it needs", "%s (%s)", fn.Name, kind)
}

// triggerEvent is an event of the kind that invokes the function: API
// Gateway's for the API, the authorizer and the WebSocket routes, a stream
// batch for the swarm and the invalidator, an SQS batch for the drain and
// the workers.
func triggerEvent(kind, name string) any {
	switch kind {
	case contract.FeedRoleAuthorizer:
		return events.APIGatewayCustomAuthorizerRequestTypeRequest{Type: "REQUEST",
			MethodArn: "arn:aws:execute-api:us-east-1:000000000000:api/v1/$connect", QueryStringParameters: map[string]string{"token": "v1.x.y"}}
	case contract.FeedRoleConnect, contract.FeedRoleDisconnect, contract.FeedRoleDefault:
		route := map[string]string{contract.FeedRoleConnect: contract.FeedRouteConnect, contract.FeedRoleDisconnect: contract.FeedRouteDisconnect,
			contract.FeedRoleDefault: contract.FeedRouteDefault}[kind]
		return events.APIGatewayWebsocketProxyRequest{RequestContext: events.APIGatewayWebsocketProxyRequestContext{
			RouteKey: route, ConnectionID: "planned=", EventType: "MESSAGE"}}
	case contract.FeedRoleSwarm, contract.FunctionCacheInvalidator:
		return events.DynamoDBEvent{Records: []events.DynamoDBEventRecord{}}
	case contract.FeedRoleWorker:
		return events.SQSEvent{Records: []events.SQSMessage{}}
	}
	if strings.Contains(name, "drain") {
		return events.SQSEvent{Records: []events.SQSMessage{}}
	}
	return request{method: "GET", resource: contract.Health.Path, path: contract.Health.Path}.event()
}
