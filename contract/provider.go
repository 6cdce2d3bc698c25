package contract

// The telephony provider: the ElevenLabs voice agent whose post-call webhooks
// are the calls of the platform ("Post-call webhooks" in ElevenLabs' docs).
const (
	// Provider names the source of provider calls on the record.
	Provider = "elevenlabs"
	// SignatureHeader carries "t=<unix seconds>,v0=<hex HMAC-SHA256 of
	// "<t>.<raw body>" with the webhook secret>".
	SignatureHeader = "ElevenLabs-Signature"
	// SignatureToleranceSecs: a delivery signed longer ago (or further in the
	// future) than this is refused, as ElevenLabs' own SDKs do (30 minutes).
	SignatureToleranceSecs = 30 * 60
	// EnvWebhookSecretARN names the Secrets Manager secret holding the
	// webhook secret(s); the function reads it once per cold start.
	EnvWebhookSecretARN = "WEBHOOK_SECRET_ARN"
	// EnvWebhookSecret holds the webhook secret(s) directly: the local
	// server reads it; the Lambda never does (its secret is in Secrets Manager).
	EnvWebhookSecret = "ELEVENLABS_WEBHOOK_SECRET"
	// ProviderArchivePrefix is where provider deliveries and call audio go
	// in the archive bucket, one folder per conversation; it is inside
	// ArchivePrefix, where the function may write.
	ProviderArchivePrefix = ArchivePrefix + Provider + "/"
	// InboxPrefix is where API Gateway puts deliveries sent to the inbox
	// route, one object per request id; the function deletes each once
	// processed, and a lifecycle rule removes any left after InboxExpiryDays.
	InboxPrefix = "inbox/" + Provider + "/"
	// InboxSignatureMetadata is the object metadata key (x-amz-meta-...)
	// holding the delivery's SignatureHeader.
	InboxSignatureMetadata = "elevenlabs-signature"
	// InboxReceivedMetadata is the object metadata key `replay --inbox`
	// sets when it re-drives a delivery by copying it onto itself: the
	// original arrival time (RFC 3339), which the signature is judged
	// against, since the copy's LastModified is the replay's.
	InboxReceivedMetadata = "received-at"
	// InboxExpiryDays bounds how long an unprocessed delivery stays: longer
	// than the inbox failure queue keeps the event that names it
	// (InboxFailureRetentionDays), so a replayed event always finds its object.
	InboxExpiryDays = InboxFailureRetentionDays + 1
	// InboxFailureRetentionDays: SQS's longest retention, for the records
	// of inbox events the function failed after every asynchronous retry.
	InboxFailureRetentionDays = 14
)

// Provider event types (the envelope's "type").
const (
	EventTranscription     = "post_call_transcription"
	EventAudio             = "post_call_audio"
	EventInitiationFailure = "call_initiation_failure"
)

// Payload limits on the provider's path.
const (
	// APIGatewayMaxBodyBytes is API Gateway's REST payload limit (10 MB).
	APIGatewayMaxBodyBytes = 10 << 20
	// LambdaMaxEventBytes is Lambda's synchronous invocation payload limit
	// (6 MB): the whole proxy event, body included, must fit.
	LambdaMaxEventBytes = 6 << 20
	// ProxyEventOverheadBytes is what the proxy event carries besides the
	// body (headers, request context), with room to spare.
	ProxyEventOverheadBytes = 64 << 10
	// MaxWebhookBodyBytes is the largest provider delivery the function is
	// given: what fits in a Lambda event. A post_call_audio of about 4.5 MB
	// of audio (base64 inflates it by 4/3) is at that limit.
	MaxWebhookBodyBytes = LambdaMaxEventBytes - ProxyEventOverheadBytes
)

// ProviderEnvelopeSchema is what the gateway checks of a provider delivery:
// only the envelope, open to the fields the provider adds over time. The
// handler verifies the signature first and never refuses a signed delivery
// for the contents of its data.
var ProviderEnvelopeSchema = Schema{
	Title:    "ProviderWebhookEnvelope",
	Open:     true,
	MaxBytes: APIGatewayMaxBodyBytes, // through the inbox; ProviderWebhook takes less
	Fields: []Field{
		{Name: "type", Kind: KindString, Required: true, MinLength: 1, MaxLength: 64,
			Description: "post_call_transcription, post_call_audio, call_initiation_failure, or a type added later."},
		{Name: "event_timestamp", Kind: KindInteger, Required: true, Minimum: ptr(0), Maximum: ptr(4102444800),
			Description: "When the provider created the event, Unix seconds."},
		{Name: "data", Kind: KindObject, Required: true},
	},
}
