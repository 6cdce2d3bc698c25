//go:build integration

package handler

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/access911/access911-infra/app/elevenlabs"
	"github.com/access911/access911-infra/app/store"
	"github.com/access911/access911-infra/contract"
	"github.com/access911/access911-infra/internal/emulator"
)

// The provider path on real emulators: the calls table on DynamoDB Local,
// the archive bucket (and its inbox) on moto's S3.
var (
	ddbLocal = emulator.DynamoDBLocalForTests()
	moto     = emulator.MotoForTests()
)

func TestMain(m *testing.M) { emulator.MainAll(m, ddbLocal, moto) }

func emulated(t *testing.T) (*Handler, *store.Store, *S3Archiver) {
	t.Helper()
	ddb, mt := ddbLocal.Require(t), moto.Require(t)
	ctx := context.Background()
	db := store.NewLocalClient(ddb.URL)
	table := fmt.Sprintf("calls-%d", time.Now().UnixNano())
	require.NoError(t, store.EnsureTable(ctx, db, table))
	client := s3.New(s3.Options{Region: "us-east-1", BaseEndpoint: aws.String(mt.URL), UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider("test", "test", "")})
	bucket := fmt.Sprintf("archive-%d", time.Now().UnixNano())
	_, err := client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)})
	require.NoError(t, err)
	st := &store.Store{DB: db, Table: table}
	arch := &S3Archiver{Client: client, Bucket: bucket}
	h := &Handler{Store: st, Region: "us-east-1", Archive: arch, Inbox: arch, WebhookSecrets: StaticSecrets{testSecret}}
	return h, st, arch
}

func TestWebhookOnEmulators(t *testing.T) {
	h, st, arch := emulated(t)
	ctx := context.Background()
	transcript := fixture(t, h, contract.EventTranscription, "conv_emu", 0)
	rec := deliver(t, h, testSecret, transcript)
	require.Equal(t, http.StatusCreated, rec.Code, rec.Body.String())
	assert.Equal(t, http.StatusOK, deliver(t, h, testSecret, transcript).Code, "redelivery: the conditional put stores nothing")

	c, err := st.Get(ctx, "conv_emu")
	require.NoError(t, err)
	assert.Equal(t, "medical", c.EmergencyType)
	assert.Empty(t, c.AudioKey, "no audio yet (a missing object reads as absent)")
	raw := getObject(t, arch, ProviderArchiveKey("conv_emu", contract.EventTranscription, c.Timestamp))
	assert.Equal(t, transcript, raw, "the raw delivery is archived as sent")

	audio := fixture(t, h, contract.EventAudio, "conv_emu", 100<<10)
	rec = deliver(t, h, testSecret, audio)
	require.Equal(t, http.StatusCreated, rec.Code, rec.Body.String())
	assert.Equal(t, 1, *result(t, rec).Linked)
	c, err = st.Get(ctx, "conv_emu")
	require.NoError(t, err)
	assert.Equal(t, AudioKey("conv_emu"), c.AudioKey, "linked on the stored call by UpdateItem")
	assert.Len(t, getObject(t, arch, AudioKey("conv_emu")), 100<<10)
	ok, err := arch.Exists(ctx, AudioKey("conv_emu"))
	require.NoError(t, err)
	assert.True(t, ok)
}

// API Gateway's S3 integration leaves the delivery with the signature in
// the object's metadata; the bucket event then hands it to ProcessInbox.
func TestInboxOnEmulators(t *testing.T) {
	h, st, arch := emulated(t)
	ctx := context.Background()
	h.Now = time.Now
	transcript := fixture(t, h, contract.EventTranscription, "conv_inbox", 0)
	audio := fixture(t, h, contract.EventAudio, "conv_inbox", 7<<20) // 9.3 MB: more than a Lambda event holds
	forged := fixture(t, h, contract.EventTranscription, "conv_forged", 0)
	puts := map[string][]byte{"req-a": transcript, "req-b": audio, "req-c": forged}
	secrets := map[string]string{"req-a": testSecret, "req-b": testSecret, "req-c": "wsec_attacker"}
	var keys []string
	for id, body := range puts {
		key := contract.InboxPrefix + id
		keys = append(keys, key)
		_, err := arch.Client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(arch.Bucket), Key: aws.String(key),
			Body: bytes.NewReader(body), ContentType: aws.String("application/json"),
			Metadata: map[string]string{contract.InboxSignatureMetadata: elevenlabs.Sign(secrets[id], time.Now(), body)}})
		require.NoError(t, err)
	}
	require.NoError(t, h.ProcessInbox(ctx, s3Event(keys...)))

	c, err := st.Get(ctx, "conv_inbox")
	require.NoError(t, err)
	assert.Equal(t, AudioKey("conv_inbox"), c.AudioKey)
	assert.Len(t, getObject(t, arch, AudioKey("conv_inbox")), 7<<20)
	_, err = st.Get(ctx, "conv_forged")
	assert.ErrorIs(t, err, store.ErrNotFound, "a forged delivery stores nothing")
	left, err := arch.Client.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(arch.Bucket), Prefix: aws.String(contract.InboxPrefix)})
	require.NoError(t, err)
	assert.Empty(t, left.Contents, "every inbox delivery is removed once handled")
}

func getObject(t *testing.T, a *S3Archiver, key string) []byte {
	t.Helper()
	out, err := a.Client.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String(a.Bucket), Key: aws.String(key)})
	require.NoError(t, err, key)
	defer out.Body.Close()
	b, err := io.ReadAll(out.Body)
	require.NoError(t, err)
	return b
}

// The function reads the secret once and keeps it: after the first read the
// secret could vanish and deliveries would still verify.
func TestSecretsManagerSourceOnMoto(t *testing.T) {
	mt := moto.Require(t)
	ctx := context.Background()
	client := secretsmanager.New(secretsmanager.Options{Region: "us-east-1", BaseEndpoint: aws.String(mt.URL),
		Credentials: credentials.NewStaticCredentialsProvider("test", "test", "")})
	out, err := client.CreateSecret(ctx, &secretsmanager.CreateSecretInput{
		Name:         aws.String(fmt.Sprintf("webhook-%d", time.Now().UnixNano())),
		SecretString: aws.String(`{"current":"wsec_new","previous":"wsec_old"}`),
	})
	require.NoError(t, err)
	src := &SecretsManagerSource{Client: client, ARN: aws.ToString(out.ARN)}
	got, err := src.WebhookSecrets(ctx)
	require.NoError(t, err)
	assert.Equal(t, []string{"wsec_new", "wsec_old"}, got)

	_, err = client.DeleteSecret(ctx, &secretsmanager.DeleteSecretInput{SecretId: out.ARN, ForceDeleteWithoutRecovery: aws.Bool(true)})
	require.NoError(t, err)
	got, err = src.WebhookSecrets(ctx)
	require.NoError(t, err, "cached for the life of the function")
	assert.Equal(t, []string{"wsec_new", "wsec_old"}, got)

	missing := &SecretsManagerSource{Client: client, ARN: aws.ToString(out.ARN)}
	_, err = missing.WebhookSecrets(ctx)
	require.Error(t, err, "a failed read is an error, not an empty secret")
}
