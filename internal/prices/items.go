// Package prices refreshes the embedded price table (capacity/prices.json)
// from the AWS Price List Query API (service/pricing GetProducts): one
// request per price item and region, filtered on the service code, the
// region code and the product's family, group or operation and usage type,
// the OnDemand term (JRTCKXETXF) and the item's tier (beginRange). A filter
// that matches no product, or more than one, fails naming the item and the
// filter: a refresh never writes a price it did not find.
package prices

import "github.com/access911/access911-infra/capacity"

// OnDemandTerm is the Price List's offer term code of On-Demand prices.
const OnDemandTerm = "JRTCKXETXF"

// Item says where one price item of the table is in the Price List.
type Item struct {
	// Name is the table's item (capacity.Price*).
	Name string
	// ServiceCode is the Price List's service (AmazonDynamoDB, AWSLambda, ...).
	ServiceCode string
	// Attributes are product attributes that must match exactly
	// (TERM_MATCH): productFamily, group, operation, volumeType, ...
	Attributes map[string]string
	// UsageType is the usage type without its region prefix: the product's
	// usagetype must be one of the region's prefixes (UsageTypePrefixes)
	// followed by it.
	UsageType string
	// BeginRange selects the tier (default "0"; the first tier past a free
	// allowance starts above 0).
	BeginRange string
	// Scale turns the Price List's price per unit into the table's (1e6 for
	// a price per million requests, 1/1024 for a per-GB price of a per-TB
	// dimension, ...); 0 means 1.
	Scale float64
}

// UsageTypePrefixes are the usage-type prefixes a region's products carry:
// they differ by service and region (us-east-1's DynamoDB, S3 and Lambda
// products have none, most others USE1-; Europe (Ireland) is EU-).
var UsageTypePrefixes = map[string][]string{
	"us-east-1":    {"", "USE1-"},
	"us-east-2":    {"USE2-"},
	"us-west-2":    {"USW2-"},
	"eu-west-1":    {"EU-", "EUW1-"},
	"eu-central-1": {"EUC1-"},
}

// Items are the table's items the refresh finds in the Price List. The
// others (Route 53, ARC, X-Ray, ElastiCache Serverless, inter-region
// transfer, SNS, S3 GETs, Secrets Manager calls, hosted zones) keep their
// value and their pricing-page source; `prices --refresh` lists them.
var Items = []Item{
	{Name: capacity.PriceDynamoWRU, ServiceCode: "AmazonDynamoDB", UsageType: "WriteRequestUnits", Scale: 1e6,
		Attributes: map[string]string{"productFamily": "Amazon DynamoDB PayPerRequest Throughput", "group": "DDB-WriteUnits"}},
	{Name: capacity.PriceDynamoRRU, ServiceCode: "AmazonDynamoDB", UsageType: "ReadRequestUnits", Scale: 1e6,
		Attributes: map[string]string{"productFamily": "Amazon DynamoDB PayPerRequest Throughput", "group": "DDB-ReadUnits"}},
	{Name: capacity.PriceDynamoRWRU, ServiceCode: "AmazonDynamoDB", UsageType: "ReplWriteRequestUnits", Scale: 1e6,
		Attributes: map[string]string{"productFamily": "DDB-Operation-ReplicatedWrite", "group": "DDB-ReplicatedWriteUnits"}},
	{Name: capacity.PriceDynamoStorage, ServiceCode: "AmazonDynamoDB", UsageType: "TimedStorage-ByteHrs",
		Attributes: map[string]string{"productFamily": "Database Storage"}},
	{Name: capacity.PriceDynamoPITR, ServiceCode: "AmazonDynamoDB", UsageType: "TimedPITRStorage-ByteHrs",
		Attributes: map[string]string{"productFamily": "Amazon DynamoDB Point-In-Time-Restore"}},
	{Name: capacity.PriceLambdaRequests, ServiceCode: "AWSLambda", UsageType: "Request", Scale: 1e6,
		Attributes: map[string]string{"productFamily": "Serverless", "group": "AWS-Lambda-Requests"}},
	{Name: capacity.PriceLambdaGBSeconds, ServiceCode: "AWSLambda", UsageType: "Lambda-GB-Second-ARM",
		Attributes: map[string]string{"productFamily": "Serverless", "group": "AWS-Lambda-Duration-ARM"}},
	{Name: capacity.PriceRESTRequests, ServiceCode: "AmazonApiGateway", UsageType: "ApiGatewayRequest", Scale: 1e6,
		Attributes: map[string]string{"productFamily": "API Calls", "operation": "ApiGatewayRequest"}},
	{Name: capacity.PriceWSMessages, ServiceCode: "AmazonApiGateway", UsageType: "ApiGatewayMessage", Scale: 1e6,
		Attributes: map[string]string{"productFamily": "WebSocket", "operation": "ApiGatewayWebSocket"}},
	{Name: capacity.PriceWSConnMinutes, ServiceCode: "AmazonApiGateway", UsageType: "ApiGatewayMinute", Scale: 1e6,
		Attributes: map[string]string{"productFamily": "WebSocket", "operation": "ApiGatewayWebSocket"}},
	{Name: capacity.PriceS3Storage, ServiceCode: "AmazonS3", UsageType: "TimedStorage-ByteHrs",
		Attributes: map[string]string{"productFamily": "Storage", "volumeType": "Standard"}},
	{Name: capacity.PriceS3Puts, ServiceCode: "AmazonS3", UsageType: "Requests-Tier1", Scale: 1e3,
		Attributes: map[string]string{"productFamily": "API Request", "group": "S3-API-Tier1"}},
	{Name: capacity.PriceSQSRequests, ServiceCode: "AWSQueueService", UsageType: "Requests-RBP", Scale: 1e6, BeginRange: "1000000",
		Attributes: map[string]string{"productFamily": "API Request", "queueType": "Standard"}},
	{Name: capacity.PriceKMSKey, ServiceCode: "awskms", UsageType: "KMS-Keys",
		Attributes: map[string]string{"productFamily": "Encryption Key"}},
	{Name: capacity.PriceKMSRequests, ServiceCode: "awskms", UsageType: "KMS-Requests", Scale: 1e4, BeginRange: "20000",
		Attributes: map[string]string{"productFamily": "Encryption Key"}},
	{Name: capacity.PriceSecret, ServiceCode: "AWSSecretsManager", UsageType: "AWSSecretsManager-Secrets",
		Attributes: map[string]string{"productFamily": "Secret"}},
	{Name: capacity.PriceAlarmMetric, ServiceCode: "AmazonCloudWatch", UsageType: "CW:AlarmMonitorUsage",
		Attributes: map[string]string{"productFamily": "Alarm"}},
	{Name: capacity.PriceDashboard, ServiceCode: "AmazonCloudWatch", UsageType: "DashboardsUsageHour-Basic",
		Attributes: map[string]string{"productFamily": "Dashboard"}},
	{Name: capacity.PriceCustomMetric, ServiceCode: "AmazonCloudWatch", UsageType: "CW:MetricMonitorUsage",
		Attributes: map[string]string{"productFamily": "Metric"}},
	{Name: capacity.PriceLogsIngested, ServiceCode: "AmazonCloudWatch", UsageType: "DataProcessing-Bytes",
		Attributes: map[string]string{"productFamily": "Data Payload", "group": "Ingested Logs"}},
	{Name: capacity.PriceLogsStored, ServiceCode: "AmazonCloudWatch", UsageType: "TimedStorage-ByteHrs",
		Attributes: map[string]string{"productFamily": "Storage Snapshot"}},
}
