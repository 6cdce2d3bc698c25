package feed

import (
	"context"
	"errors"
	"fmt"
	"github.com/access911/access911-infra/app/feed/registry"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigatewaymanagementapi"
	"github.com/aws/aws-sdk-go-v2/service/apigatewaymanagementapi/types"
)

// ManagementAPI is the part of API Gateway's @connections client the
// poster uses.
type ManagementAPI interface {
	PostToConnection(context.Context, *apigatewaymanagementapi.PostToConnectionInput, ...func(*apigatewaymanagementapi.Options)) (*apigatewaymanagementapi.PostToConnectionOutput, error)
}

// ManagementPoster posts through API Gateway's @connections API (in AWS:
// https://<api>.execute-api.<region>.amazonaws.com/<stage>; locally the
// local server serves the same paths).
type ManagementPoster struct {
	Client ManagementAPI
}

// PostHTTPClient keeps as many connections to the @connections endpoint
// alive as posts run at once: the SDK's default keeps ten per host, and a
// worker posting to hundreds of dispatchers in parallel would otherwise
// open a new TLS connection for most posts. It never opens more than it
// keeps, so a burst waits for a connection instead of opening and closing
// new ones.
func PostHTTPClient() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns, t.MaxIdleConnsPerHost, t.MaxConnsPerHost = 512, 512, 512
	return &http.Client{Transport: t, Timeout: 10 * time.Second}
}

// Post sends data to one connection; a connection that no longer exists
// (410 GoneException) is ErrGone.
func (p *ManagementPoster) Post(ctx context.Context, id string, data []byte) error {
	_, err := p.Client.PostToConnection(ctx, &apigatewaymanagementapi.PostToConnectionInput{ConnectionId: aws.String(id), Data: data})
	var gone *types.GoneException
	if errors.As(err, &gone) {
		return registry.ErrGone
	}
	if err != nil {
		return fmt.Errorf("post to %s: %w", id, err)
	}
	return nil
}
