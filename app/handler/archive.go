package handler

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/access911/access911-infra/contract"
)

// Archiver stores raw webhook payloads and call audio.
type Archiver interface {
	Archive(ctx context.Context, key, contentType string, body []byte) error
	// Exists reports whether an object is there.
	Exists(ctx context.Context, key string) (bool, error)
}

// ArchiveKey is where a POST /calls payload goes: by UTC date, then id and
// timestamp, under prefix ("calls/"), so lifecycle rules and Athena
// partitions can work by day.
func ArchiveKey(prefix string, received time.Time, id string, ts int64) string {
	return path.Join(prefix, received.UTC().Format("2006/01/02"), fmt.Sprintf("%s-%d.json", id, ts))
}

// ProviderArchiveKey is where a provider delivery goes: one folder per
// conversation under contract.ProviderArchivePrefix, so a call's transcript, failure
// and audio sit side by side whatever day each arrived. A redelivery lands
// on the same key.
func ProviderArchiveKey(id, eventType string, ts int64) string {
	return path.Join(contract.ProviderArchivePrefix, id, fmt.Sprintf("%s-%d.json", eventType, ts))
}

// AudioKey is where a conversation's audio goes, next to its deliveries.
func AudioKey(id string) string {
	return path.Join(contract.ProviderArchivePrefix, id, "audio.mp3")
}

// S3Archiver writes to the archive bucket; the bucket's default SSE-KMS
// encryption applies.
type S3Archiver struct {
	Client *s3.Client
	Bucket string
}

// Archive puts one object.
func (a *S3Archiver) Archive(ctx context.Context, key, contentType string, body []byte) error {
	_, err := a.Client.PutObject(ctx, &s3.PutObjectInput{
		Bucket:      aws.String(a.Bucket),
		Key:         aws.String(key),
		Body:        bytes.NewReader(body),
		ContentType: aws.String(contentType),
	})
	if err != nil {
		return fmt.Errorf("archive s3://%s/%s: %w", a.Bucket, key, err)
	}
	return nil
}

// Fetch reads an inbox delivery: its body, the signature API Gateway put in
// its metadata, and when it arrived.
func (a *S3Archiver) Fetch(ctx context.Context, key string) ([]byte, string, time.Time, error) {
	out, err := a.Client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(a.Bucket), Key: aws.String(key)})
	if err != nil {
		return nil, "", time.Time{}, fmt.Errorf("get s3://%s/%s: %w", a.Bucket, key, err)
	}
	defer out.Body.Close()
	body, err := io.ReadAll(io.LimitReader(out.Body, contract.APIGatewayMaxBodyBytes+1))
	if err != nil {
		return nil, "", time.Time{}, fmt.Errorf("read s3://%s/%s: %w", a.Bucket, key, err)
	}
	return body, out.Metadata[contract.InboxSignatureMetadata], arrival(out.Metadata, aws.ToTime(out.LastModified)), nil
}

// arrival is when a delivery reached the inbox: the object's LastModified,
// or, for a delivery `replay --inbox` copied onto itself, the original
// arrival it recorded (only the operator's replay writes that metadata: API
// Gateway's integration maps the signature header and nothing else).
func arrival(metadata map[string]string, lastModified time.Time) time.Time {
	if v, ok := metadata[contract.InboxReceivedMetadata]; ok {
		if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
			return t
		}
	}
	return lastModified
}

// Delete removes a processed inbox delivery.
func (a *S3Archiver) Delete(ctx context.Context, key string) error {
	if _, err := a.Client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(a.Bucket), Key: aws.String(key)}); err != nil {
		return fmt.Errorf("delete s3://%s/%s: %w", a.Bucket, key, err)
	}
	return nil
}

// Exists heads the object. The function may read only its provider folder
// and may not list the bucket, so S3 answers a missing object 403, not 404:
// both mean "not there" here.
func (a *S3Archiver) Exists(ctx context.Context, key string) (bool, error) {
	_, err := a.Client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(a.Bucket), Key: aws.String(key)})
	var re *smithyhttp.ResponseError
	if errors.As(err, &re) && (re.HTTPStatusCode() == http.StatusNotFound || re.HTTPStatusCode() == http.StatusForbidden) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("head s3://%s/%s: %w", a.Bucket, key, err)
	}
	return true, nil
}
