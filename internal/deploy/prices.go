package deploy

import (
	_ "embed"
	"encoding/json"
	"fmt"
)

//go:embed prices.json
var pricesJSON []byte

// Price is one unit price: US dollars per Unit, and where it comes from.
type Price struct {
	USD    float64 `json:"usd"`
	Unit   string  `json:"unit"`
	Source string  `json:"source"`
}

// PriceTable is the dated price of every priced item, per region.
type PriceTable struct {
	Date       string                      `json:"date"`
	Provenance string                      `json:"provenance"`
	Regions    map[string]map[string]Price `json:"regions"`
}

// LoadPrices reads the embedded price table (prices.json).
func LoadPrices() (PriceTable, error) {
	var t PriceTable
	if err := json.Unmarshal(pricesJSON, &t); err != nil {
		return t, fmt.Errorf("prices.json: %w", err)
	}
	return t, nil
}

// Of is an item's price in a region: an error names what is missing, so a
// region or item the table lacks is never priced at zero.
func (t PriceTable) Of(region, item string) (Price, error) {
	r, ok := t.Regions[region]
	if !ok {
		return Price{}, fmt.Errorf("the price table has no region %s", region)
	}
	p, ok := r[item]
	if !ok {
		return Price{}, fmt.Errorf("the price table has no %s in %s", item, region)
	}
	return p, nil
}

// Price items, with the quantity unit each is priced by (the divisor turns
// a count into the price's unit).
const (
	PriceRESTRequests     = "apigateway.rest.requests"
	PriceWSMessages       = "apigateway.websocket.messages"
	PriceWSConnMinutes    = "apigateway.websocket.connection_minutes"
	PriceLambdaRequests   = "lambda.requests"
	PriceLambdaGBSeconds  = "lambda.arm64.gb_seconds"
	PriceDynamoWRU        = "dynamodb.write_request_units"
	PriceDynamoRWRU       = "dynamodb.replicated_write_request_units"
	PriceDynamoStorage    = "dynamodb.storage"
	PriceDynamoPITR       = "dynamodb.pitr"
	PriceS3Storage        = "s3.standard.storage"
	PriceS3Puts           = "s3.put_requests"
	PriceTransferInter    = "transfer.inter_region"
	PriceSQSRequests      = "sqs.requests"
	PriceKMSKey           = "kms.key"
	PriceKMSRequests      = "kms.requests"
	PriceSecret           = "secretsmanager.secret"
	PriceAlarmMetric      = "cloudwatch.alarm_metric"
	PriceDashboard        = "cloudwatch.dashboard"
	PriceCustomMetric     = "cloudwatch.custom_metric"
	PriceLogsIngested     = "cloudwatch.logs_ingested"
	PriceLogsStored       = "cloudwatch.logs_stored"
	PriceXRayTraces       = "xray.traces_recorded"
	PriceRoute53HealthChk = "route53.health_check"
	PriceRoute53HTTPS     = "route53.health_check_https"
	PriceRoute53Fast      = "route53.health_check_fast_interval"
	PriceRoute53Latency   = "route53.health_check_latency"
	PriceRoute53Queries   = "route53.queries"
	PriceCacheDataGBHours = "elasticache.valkey_serverless.data"
	PriceCacheECPU        = "elasticache.valkey_serverless.ecpu"
)

// priceDivisor is how many of an item's counted units one price covers.
var priceDivisor = map[string]float64{
	PriceRESTRequests: 1e6, PriceWSMessages: 1e6, PriceWSConnMinutes: 1e6, PriceLambdaRequests: 1e6,
	PriceDynamoWRU: 1e6, PriceDynamoRWRU: 1e6, PriceS3Puts: 1e3, PriceSQSRequests: 1e6, PriceKMSRequests: 1e4,
	PriceXRayTraces: 1e6, PriceRoute53Queries: 1e6, PriceCacheECPU: 1e6,
}

// ResourcePricing says, for every resource type a plan may hold, which
// price items its cost lines use, or why it costs nothing itself. A type
// missing here fails TestEveryPlannedTypeIsPricedOrFree.
var ResourcePricing = map[string]string{
	"aws:apigateway/restApi:RestApi":                         "priced: " + PriceRESTRequests,
	"aws:apigatewayv2/api:Api":                               "priced: " + PriceWSMessages + ", " + PriceWSConnMinutes,
	"aws:lambda/function:Function":                           "priced: " + PriceLambdaRequests + ", " + PriceLambdaGBSeconds,
	"aws:dynamodb/table:Table":                               "priced: " + PriceDynamoWRU + ", " + PriceDynamoStorage + ", " + PriceDynamoPITR,
	"aws:dynamodb/tableReplica:TableReplica":                 "priced: " + PriceDynamoRWRU + ", " + PriceDynamoStorage + ", " + PriceDynamoPITR,
	"aws:s3/bucketV2:BucketV2":                               "priced: " + PriceS3Storage + ", " + PriceS3Puts,
	"aws:s3/bucketReplicationConfig:BucketReplicationConfig": "priced: " + PriceTransferInter + " (and the replica's PUTs)",
	"aws:sqs/queue:Queue":                                    "priced: " + PriceSQSRequests,
	"aws:kms/key:Key":                                        "priced: " + PriceKMSKey + ", " + PriceKMSRequests,
	"aws:secretsmanager/secret:Secret":                       "priced: " + PriceSecret,
	"aws:cloudwatch/metricAlarm:MetricAlarm":                 "priced: " + PriceAlarmMetric,
	"aws:cloudwatch/dashboard:Dashboard":                     "priced: " + PriceDashboard,
	"aws:cloudwatch/logGroup:LogGroup":                       "priced: " + PriceLogsIngested + ", " + PriceLogsStored,
	"aws:route53/healthCheck:HealthCheck":                    "priced: " + PriceRoute53HealthChk,
	"aws:route53/record:Record":                              "priced: " + PriceRoute53Queries,
	"aws:elasticache/serverlessCache:ServerlessCache":        "priced: " + PriceCacheDataGBHours + ", " + PriceCacheECPU,

	"aws:apigateway/account:Account":                                                             "free: an account setting",
	"aws:apigateway/apiKey:ApiKey":                                                               "free: billed as the API's requests",
	"aws:apigateway/deployment:Deployment":                                                       "free: a snapshot of the API",
	"aws:apigateway/integration:Integration":                                                     "free: part of the API",
	"aws:apigateway/integrationResponse:IntegrationResponse":                                     "free: part of the API",
	"aws:apigateway/method:Method":                                                               "free: part of the API",
	"aws:apigateway/methodResponse:MethodResponse":                                               "free: part of the API",
	"aws:apigateway/methodSettings:MethodSettings":                                               "free: part of the API",
	"aws:apigateway/model:Model":                                                                 "free: part of the API",
	"aws:apigateway/requestValidator:RequestValidator":                                           "free: part of the API",
	"aws:apigateway/resource:Resource":                                                           "free: part of the API",
	"aws:apigateway/response:Response":                                                           "free: part of the API",
	"aws:apigateway/stage:Stage":                                                                 "free: its requests are the API's (no cache cluster)",
	"aws:apigateway/usagePlan:UsagePlan":                                                         "free: part of the API",
	"aws:apigateway/usagePlanKey:UsagePlanKey":                                                   "free: part of the API",
	"aws:apigateway/domainName:DomainName":                                                       "free: a custom domain name costs nothing itself",
	"aws:apigateway/basePathMapping:BasePathMapping":                                             "free: part of the domain name",
	"aws:apigatewayv2/authorizer:Authorizer":                                                     "free: its invocations are the authorizer function's",
	"aws:apigatewayv2/integration:Integration":                                                   "free: part of the API",
	"aws:apigatewayv2/route:Route":                                                               "free: part of the API",
	"aws:apigatewayv2/stage:Stage":                                                               "free: part of the API",
	"aws:apigatewayv2/domainName:DomainName":                                                     "free: a custom domain name costs nothing itself",
	"aws:apigatewayv2/apiMapping:ApiMapping":                                                     "free: part of the domain name",
	"aws:acm/certificate:Certificate":                                                            "free: public ACM certificates cost nothing",
	"aws:acm/certificateValidation:CertificateValidation":                                        "free: a wait, not a resource",
	"aws:iam/role:Role":                                                                          "free: IAM costs nothing",
	"aws:iam/rolePolicy:RolePolicy":                                                              "free: IAM costs nothing",
	"aws:lambda/eventSourceMapping:EventSourceMapping":                                           "free itself: its polls are priced as the queue's requests (stream polls are free)",
	"aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig":                             "free: a setting of the function",
	"aws:lambda/permission:Permission":                                                           "free: a resource policy statement",
	"aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2":                       "free itself: transitions are requests the model leaves out (calls stay in STANDARD)",
	"aws:s3/bucketNotification:BucketNotification":                                               "free: a setting of the bucket",
	"aws:s3/bucketPolicy:BucketPolicy":                                                           "free: a setting of the bucket",
	"aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock":                                     "free: a setting of the bucket",
	"aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2": "free: a setting of the bucket (its KMS requests are the key's)",
	"aws:s3/bucketVersioningV2:BucketVersioningV2":                                               "free: a setting of the bucket (calls are written once: no extra versions)",
	"aws:secretsmanager/secretVersion:SecretVersion":                                             "free: the secret's value",
	"aws:sns/topic:Topic":                                                                        "free: alarm notifications are a handful of publishes (SNS's first million a month)",
	"aws:sns/topicSubscription:TopicSubscription":                                                "free: e-mail notifications of alarms (SNS's first thousand a month)",
	"aws:sqs/queuePolicy:QueuePolicy":                                                            "free: a setting of the queue",
	"aws:sqs/redriveAllowPolicy:RedriveAllowPolicy":                                              "free: a setting of the queue",
	"aws:ec2/vpc:Vpc":                                                                            "free: a VPC costs nothing",
	"aws:ec2/subnet:Subnet":                                                                      "free: part of the VPC",
	"aws:ec2/routeTable:RouteTable":                                                              "free: part of the VPC",
	"aws:ec2/routeTableAssociation:RouteTableAssociation":                                        "free: part of the VPC",
	"aws:ec2/securityGroup:SecurityGroup":                                                        "free: part of the VPC",
	"aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule":                                  "free: part of the VPC",
	"aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule":                                    "free: part of the VPC",
	"aws:ec2/vpcEndpoint:VpcEndpoint":                                                            "free: a gateway endpoint (DynamoDB) costs nothing",
	"pulumi:providers:aws":                                                                       "free: a Pulumi provider",
}
