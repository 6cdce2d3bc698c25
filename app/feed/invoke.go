package feed

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
)

// Invoker is the part of the Lambda client LambdaInvoker uses.
type Invoker interface {
	Invoke(context.Context, *lambda.InvokeInput, ...func(*lambda.Options)) (*lambda.InvokeOutput, error)
}

// LambdaInvoker hands a stream batch to function and waits for its answer
// (RequestResponse), failing on its function error: the swarm gives every
// batch to the read cache's invalidator this way, and replay
// --stream-failures gives a discarded batch back to the swarm.
func LambdaInvoker(client Invoker, function string) func(context.Context, events.DynamoDBEvent) error {
	return func(ctx context.Context, ev events.DynamoDBEvent) error {
		payload, err := json.Marshal(ev)
		if err != nil {
			return err
		}
		out, err := client.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String(function), Payload: payload})
		if err != nil {
			return fmt.Errorf("invoke %s: %w", function, err)
		}
		if out.FunctionError != nil {
			return fmt.Errorf("%s failed (%s): %s", function, aws.ToString(out.FunctionError), out.Payload)
		}
		return nil
	}
}
