package contract

// Stack output names: every region stack exports them (stacks/) and the
// tools read them back (the offline plan, the DR drill from
// `pulumi stack output --json`).
const (
	OutputRegion                   = "region"
	OutputActiveRegion             = "activeRegion"
	OutputIsActive                 = "isActive"
	OutputHomeRegion               = "homeRegion"
	OutputTableRole                = "tableRole"
	OutputTableName                = "tableName"
	OutputTableArn                 = "tableArn"
	OutputTableBillingMode         = "tableBillingMode"
	OutputArchiveBucketName        = "archiveBucketName"
	OutputArchiveBucketArn         = "archiveBucketArn"
	OutputArchiveKMSKeyArn         = "archiveKmsKeyArn"
	OutputArchiveReplicaRegion     = "archiveReplicaRegion"
	OutputArchiveReplicaBucketName = "archiveReplicaBucketName"
	OutputFunctionName             = "functionName"
	OutputAPIURL                   = "apiUrl"
	OutputAPIKeyID                 = "apiKeyId"
	OutputAlarmTopicArn            = "alarmTopicArn"
	OutputDashboardName            = "dashboardName"
	OutputArtifactSHA256           = "artifactSha256"
	OutputCapacityCheck            = "capacityCheck"
	OutputTableBilling             = "tableBilling"
	OutputWebhookURL               = "webhookUrl"
	OutputIntakeQueueURL           = "intakeQueueUrl"
	OutputIntakeDLQURL             = "intakeDlqUrl"
	OutputDrainFunctionName        = "drainFunctionName"
	OutputIntakeModel              = "intakeModel"
	OutputFeedModel                = "feedModel"
	OutputWebhookInboxURL          = "webhookInboxUrl"
	OutputWebhookSecretArn         = "webhookSecretArn"
	// The dispatcher feed: the wss:// URL dispatchers connect to (with
	// ?token=), its token secret, its connections table and its DLQ.
	OutputFeedURL              = "feedUrl"
	OutputFeedSecretArn        = "feedSecretArn"
	OutputFeedConnectionsTable = "feedConnectionsTable"
	OutputFeedDLQURL           = "feedDlqUrl"
	// DNS failover outputs, present when the stack manages the shared hostname.
	OutputAPIHostname        = "apiHostname"
	OutputHostedZoneID       = "hostedZoneId"
	OutputHealthCheckID      = "healthCheckId"
	OutputDNSWeight          = "dnsWeight"
	OutputRegionalDomainName = "regionalDomainName"
	OutputFeedHostname       = "feedHostname" // wss://<it>/?token=... follows the active region
)

// Table roles in a stack's tableRole output.
const (
	TableRoleOwner   = "owner"
	TableRoleReplica = "replica"
)
