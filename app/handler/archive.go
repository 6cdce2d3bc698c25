package handler

import (
	"bytes"
	"context"
	"fmt"
	"path"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// Archiver stores raw webhook payloads.
type Archiver interface {
	Archive(ctx context.Context, key string, body []byte) error
}

// ArchiveKey is where a call's raw payload goes: by UTC date, then id and
// timestamp, under prefix ("calls/"), so lifecycle rules and Athena
// partitions can work by day.
func ArchiveKey(prefix string, received time.Time, id string, ts int64) string {
	return path.Join(prefix, received.UTC().Format("2006/01/02"), fmt.Sprintf("%s-%d.json", id, ts))
}

// S3Archiver writes payloads to the archive bucket; the bucket's default
// SSE-KMS encryption applies.
type S3Archiver struct {
	Client *s3.Client
	Bucket string
}

// Archive puts one object.
func (a *S3Archiver) Archive(ctx context.Context, key string, body []byte) error {
	_, err := a.Client.PutObject(ctx, &s3.PutObjectInput{
		Bucket:      aws.String(a.Bucket),
		Key:         aws.String(key),
		Body:        bytes.NewReader(body),
		ContentType: aws.String("application/json"),
	})
	if err != nil {
		return fmt.Errorf("archive s3://%s/%s: %w", a.Bucket, key, err)
	}
	return nil
}
