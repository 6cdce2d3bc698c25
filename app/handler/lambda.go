package handler

import (
	"bytes"
	"context"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"

	"github.com/aws/aws-lambda-go/events"
)

// LambdaAdapter serves API Gateway proxy events with an http.Handler, so the
// Lambda and the local server run the same router.
func LambdaAdapter(h http.Handler) func(context.Context, events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
	return func(ctx context.Context, ev events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
		body := []byte(ev.Body)
		if ev.IsBase64Encoded {
			b, err := base64.StdEncoding.DecodeString(ev.Body)
			if err != nil {
				return events.APIGatewayProxyResponse{StatusCode: http.StatusBadRequest, Body: `{"error":"body is not valid base64"}`}, nil
			}
			body = b
		}
		q := url.Values{}
		for k, vs := range ev.MultiValueQueryStringParameters {
			q[k] = vs
		}
		for k, v := range ev.QueryStringParameters {
			if _, ok := q[k]; !ok {
				q.Set(k, v)
			}
		}
		u := &url.URL{Path: ev.Path, RawQuery: q.Encode()}
		req, err := http.NewRequestWithContext(ctx, ev.HTTPMethod, u.String(), bytes.NewReader(body))
		if err != nil {
			return events.APIGatewayProxyResponse{StatusCode: http.StatusBadRequest, Body: `{"error":"bad request"}`}, nil
		}
		// API Gateway sends every header in multiValueHeaders (repeated ones
		// in full) and the last value of each in headers.
		for k, vs := range ev.MultiValueHeaders {
			for _, v := range vs {
				req.Header.Add(k, v)
			}
		}
		for k, v := range ev.Headers {
			if _, ok := req.Header[http.CanonicalHeaderKey(k)]; !ok {
				req.Header.Set(k, v)
			}
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		headers := map[string]string{}
		for k, vs := range rec.Header() {
			headers[k] = strings.Join(vs, ",")
		}
		return events.APIGatewayProxyResponse{StatusCode: rec.Code, Headers: headers, Body: rec.Body.String()}, nil
	}
}
