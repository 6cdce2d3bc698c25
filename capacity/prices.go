package capacity

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
	PriceDynamoRRU        = "dynamodb.read_request_units"
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
	PriceRoute53StrMatch  = "route53.health_check_string_matching"
	// Route 53 bills checks of endpoints it does not count as AWS endpoints
	// (in the same account: EC2, ELB, S3 websites...) at these prices; an
	// API Gateway endpoint is priced here as one, the higher figure.
	PriceRoute53NonAWS       = "route53.health_check_non_aws"
	PriceRoute53OptionNonAWS = "route53.health_check_option_non_aws"
	PriceKMSRotation         = "kms.key_rotation"
	PriceARCClusterHour      = "route53arc.cluster_hour"
	PriceRoute53Queries      = "route53.queries"
	PriceCacheDataGBHours    = "elasticache.valkey_serverless.data"
	PriceCacheECPU           = "elasticache.valkey_serverless.ecpu"
)

// priceDivisor is how many of an item's counted units one price covers.
var priceDivisor = map[string]float64{
	PriceRESTRequests: 1e6, PriceWSMessages: 1e6, PriceWSConnMinutes: 1e6, PriceLambdaRequests: 1e6,
	PriceDynamoWRU: 1e6, PriceDynamoRRU: 1e6, PriceDynamoRWRU: 1e6, PriceS3Puts: 1e3, PriceSQSRequests: 1e6, PriceKMSRequests: 1e4,
	PriceXRayTraces: 1e6, PriceRoute53Queries: 1e6, PriceCacheECPU: 1e6,
}
