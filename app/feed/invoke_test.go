package feed

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// invoked records what LambdaInvoker sends and answers as Lambda would.
type invoked struct {
	function string
	event    events.DynamoDBEvent
	out      *lambda.InvokeOutput
	err      error
}

func (i *invoked) Invoke(_ context.Context, in *lambda.InvokeInput, _ ...func(*lambda.Options)) (*lambda.InvokeOutput, error) {
	i.function = aws.ToString(in.FunctionName)
	if err := json.Unmarshal(in.Payload, &i.event); err != nil {
		return nil, err
	}
	return i.out, i.err
}

// The swarm's hand-off to the invalidator (and replay's to the swarm) waits
// for the function and fails the batch on its function error, not only on
// a failed call.
func TestLambdaInvokerFailsOnTheFunctionsError(t *testing.T) {
	ev := events.DynamoDBEvent{Records: []events.DynamoDBEventRecord{{EventName: "MODIFY",
		Change: events.DynamoDBStreamRecord{NewImage: image("c-1", "fire")}}}}
	for _, tc := range []struct {
		name string
		out  *lambda.InvokeOutput
		err  error
		want string
	}{
		{"answered", &lambda.InvokeOutput{StatusCode: 200}, nil, ""},
		{"the function failed", &lambda.InvokeOutput{StatusCode: 200, FunctionError: aws.String("Unhandled"),
			Payload: []byte(`{"errorMessage":"read cache: apply c-1: i/o timeout"}`)}, nil, "invalidator failed (Unhandled): {\"errorMessage\":\"read cache: apply c-1: i/o timeout\"}"},
		{"the call failed", nil, errors.New("TooManyRequestsException"), "invoke invalidator: TooManyRequestsException"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fake := &invoked{out: tc.out, err: tc.err}
			err := LambdaInvoker(fake, "invalidator")(context.Background(), ev)
			if tc.want == "" {
				require.NoError(t, err)
			} else {
				assert.EqualError(t, err, tc.want)
			}
			assert.Equal(t, "invalidator", fake.function)
			require.Len(t, fake.event.Records, 1)
			assert.Equal(t, "c-1", fake.event.Records[0].Change.NewImage["conversation_id"].String(), "the batch as the mapping gave it")
		})
	}
}
