#!/usr/bin/env python3
"""Writes the constructed Price List recordings in this directory.

These are NOT captured from the AWS Price List API (these machines cannot
reach it). They are GetProducts answers constructed by hand in the shape the
API documents (FormatVersion aws_v1; PriceList a list of JSON strings, each
with product.attributes and terms.OnDemand.<sku>.<offer term>.priceDimensions.
<rate code>.pricePerUnit.USD), one file per service, holding the products
of us-east-1, eu-west-1 and eu-central-1 the refresh looks up, with decoys it
must not pick (another table class, a FIFO queue, a replicated-write product
whose usage type contains the write one, a free first tier). The prices are
the values quoted in issue 30 from the Price List offer files of Aug-Oct 2026
where it quotes one, and the table's pricing-page values otherwise. The AWS
CLI documentation's own published example is kept verbatim beside them
(awscli-doc-get-products-example.json).
"""
import hashlib, json

LOCATIONS = {"us-east-1": "US East (N. Virginia)", "eu-west-1": "EU (Ireland)", "eu-central-1": "EU (Frankfurt)"}
PREFIX = {"us-east-1": "", "eu-west-1": "EU-", "eu-central-1": "EUC1-"}
PREFIX_USE1 = {"us-east-1": "USE1-", "eu-west-1": "EU-", "eu-central-1": "EUC1-"}  # services that prefix us-east-1 too
VERSION, PUBLISHED = "20261001190412", "2026-10-01T19:04:12Z"

def sku(*parts):
    return hashlib.sha1("|".join(parts).encode()).hexdigest().upper()[:16].replace("0", "G").replace("1", "H")

def product(service, region, family, usagetype, attrs, tiers):
    s = sku(service, region, usagetype, json.dumps(attrs, sort_keys=True))
    a = {"servicecode": service, "location": LOCATIONS[region], "locationType": "AWS Region", "regionCode": region, "usagetype": usagetype}
    a.update(attrs)
    dims = {}
    for i, (begin, end, unit, usd) in enumerate(tiers):
        rate = f"{s}.JRTCKXETXF.{sku(s, str(i))[:10]}"
        dims[rate] = {"unit": unit, "endRange": end, "description": f"${usd} per {unit} ({usagetype})", "appliesTo": [],
                      "rateCode": rate, "beginRange": begin, "pricePerUnit": {"USD": f"{usd:.10f}"}}
    doc = {"product": {"productFamily": family, "attributes": a, "sku": s}, "serviceCode": service,
           "terms": {"OnDemand": {f"{s}.JRTCKXETXF": {"priceDimensions": dims, "sku": s, "effectiveDate": "2026-10-01T00:00:00Z",
                                                        "offerTermCode": "JRTCKXETXF", "termAttributes": {}}}},
           "version": VERSION, "publicationDate": PUBLISHED}
    return json.dumps(doc, separators=(",", ":"))

def flat(unit, usd):
    return [("0", "Inf", unit, usd)]

# region -> value, per item; None: the region is left out of that service's file
P = {
 "wru": {"us-east-1": 0.625, "eu-west-1": 0.705, "eu-central-1": 0.7625},
 "rru": {"us-east-1": 0.125, "eu-west-1": 0.1415, "eu-central-1": 0.1525},
 "rwru": {"us-east-1": 0.625, "eu-west-1": 0.705, "eu-central-1": 0.7625},
 "ddbstorage": {"us-east-1": 0.25, "eu-west-1": 0.283, "eu-central-1": 0.306},
 "pitr": {"us-east-1": 0.20, "eu-west-1": 0.22, "eu-central-1": 0.2448},
 "lreq": {"us-east-1": 0.2, "eu-west-1": 0.2, "eu-central-1": 0.2},
 "lgbs": {"us-east-1": 0.0000133334, "eu-west-1": 0.0000133334, "eu-central-1": 0.0000133334},
 "rest": {"us-east-1": 3.5, "eu-west-1": 3.5, "eu-central-1": 3.7},
 "wsmsg": {"us-east-1": 1.0, "eu-west-1": 1.14, "eu-central-1": 1.14},
 "wsmin": {"us-east-1": 0.25, "eu-west-1": 0.285, "eu-central-1": 0.285},
 "s3": {"us-east-1": 0.023, "eu-west-1": 0.023, "eu-central-1": 0.0245},
 "s3put": {"us-east-1": 0.005, "eu-west-1": 0.005, "eu-central-1": 0.0054},
 "sqs": {"us-east-1": 0.4, "eu-west-1": 0.4, "eu-central-1": 0.4},
 "kmskey": {"us-east-1": 1.0, "eu-west-1": 1.0, "eu-central-1": 1.0},
 "kmsreq": {"us-east-1": 0.03, "eu-west-1": 0.03, "eu-central-1": 0.03},
 "secret": {"us-east-1": 0.4, "eu-west-1": 0.4, "eu-central-1": 0.4},
 "alarm": {"us-east-1": 0.1, "eu-west-1": 0.1, "eu-central-1": 0.1},
 "dash": {"us-east-1": 3.0, "eu-west-1": 3.0, "eu-central-1": 3.0},
 "metric": {"us-east-1": 0.3, "eu-west-1": 0.3, "eu-central-1": 0.3},
 "logsin": {"us-east-1": 0.5, "eu-west-1": 0.57, "eu-central-1": 0.63},
 "logsst": {"us-east-1": 0.03, "eu-west-1": 0.03, "eu-central-1": 0.0324},
}

files = {}
def add(service, *products):
    files.setdefault(service, []).extend(products)

for r in LOCATIONS:
    p, q = PREFIX[r], PREFIX_USE1[r]
    add("AmazonDynamoDB",
        product("AmazonDynamoDB", r, "Amazon DynamoDB PayPerRequest Throughput", p + "WriteRequestUnits", {"group": "DDB-WriteUnits"}, flat("WriteRequestUnits", P["wru"][r] / 1e6)),
        product("AmazonDynamoDB", r, "Amazon DynamoDB PayPerRequest Throughput", p + "IA-WriteRequestUnits", {"group": "DDB-WriteUnitsIA"}, flat("WriteRequestUnits", P["wru"][r] * 1.25 / 1e6)),
        product("AmazonDynamoDB", r, "Amazon DynamoDB PayPerRequest Throughput", p + "ReadRequestUnits", {"group": "DDB-ReadUnits"}, flat("ReadRequestUnits", P["rru"][r] / 1e6)),
        product("AmazonDynamoDB", r, "DDB-Operation-ReplicatedWrite", p + "ReplWriteRequestUnits", {"group": "DDB-ReplicatedWriteUnits"}, flat("ReplicatedWriteRequestUnits", P["rwru"][r] / 1e6)),
        product("AmazonDynamoDB", r, "Database Storage", p + "TimedStorage-ByteHrs", {"volumeType": "Amazon DynamoDB - Indexed DataStore"}, flat("GB-Mo", P["ddbstorage"][r])),
        product("AmazonDynamoDB", r, "Amazon DynamoDB Point-In-Time-Restore", p + "TimedPITRStorage-ByteHrs", {}, flat("GB-Mo", P["pitr"][r])))
    add("AWSLambda",
        product("AWSLambda", r, "Serverless", q + "Request", {"group": "AWS-Lambda-Requests"}, flat("Requests", P["lreq"][r] / 1e6)),
        product("AWSLambda", r, "Serverless", q + "Request-ARM", {"group": "AWS-Lambda-Requests"}, flat("Requests", P["lreq"][r] / 1e6)),
        product("AWSLambda", r, "Serverless", q + "Lambda-GB-Second-ARM", {"group": "AWS-Lambda-Duration-ARM"},
                [("0", "7500000000", "Lambda-GB-Second", P["lgbs"][r]), ("7500000000", "22500000000", "Lambda-GB-Second", P["lgbs"][r] * 0.9)]))
    add("AmazonApiGateway",
        product("AmazonApiGateway", r, "API Calls", q + "ApiGatewayRequest", {"operation": "ApiGatewayRequest"},
                [("0", "333000000", "Requests", P["rest"][r] / 1e6), ("333000000", "1000000000", "Requests", 2.8 / 1e6)]),
        product("AmazonApiGateway", r, "WebSocket", q + "ApiGatewayMessage", {"operation": "ApiGatewayWebSocket"},
                [("0", "1000000000", "Messages", P["wsmsg"][r] / 1e6), ("1000000000", "Inf", "Messages", 0.8 / 1e6)]),
        product("AmazonApiGateway", r, "WebSocket", q + "ApiGatewayMinute", {"operation": "ApiGatewayWebSocket"}, flat("Minutes", P["wsmin"][r] / 1e6)))
    add("AmazonS3",
        product("AmazonS3", r, "Storage", p + "TimedStorage-ByteHrs", {"volumeType": "Standard", "storageClass": "General Purpose"},
                [("0", "51200", "GB-Mo", P["s3"][r]), ("51200", "512000", "GB-Mo", P["s3"][r] * 0.96)]),
        product("AmazonS3", r, "Storage", p + "TimedStorage-SIA-ByteHrs", {"volumeType": "Standard - Infrequent Access"}, flat("GB-Mo", 0.0125)),
        product("AmazonS3", r, "API Request", p + "Requests-Tier1", {"group": "S3-API-Tier1"}, flat("Requests", P["s3put"][r] / 1e3)))
    add("AWSQueueService",
        product("AWSQueueService", r, "API Request", q + "Requests-RBP", {"queueType": "Standard"},
                [("0", "1000000", "Requests", 0.0), ("1000000", "100000000000", "Requests", P["sqs"][r] / 1e6)]),
        product("AWSQueueService", r, "API Request", q + "Requests-FIFO-RBP", {"queueType": "FIFO (first-in, first-out)"},
                [("0", "1000000", "Requests", 0.0), ("1000000", "100000000000", "Requests", 0.5 / 1e6)]))
    add("awskms",
        product("awskms", r, "Encryption Key", q + "KMS-Keys", {}, flat("Keys", P["kmskey"][r])),
        product("awskms", r, "Encryption Key", q + "KMS-Requests", {},
                [("0", "20000", "Requests", 0.0), ("20000", "Inf", "Requests", P["kmsreq"][r] / 1e4)]))
    add("AWSSecretsManager",
        product("AWSSecretsManager", r, "Secret", q + "AWSSecretsManager-Secrets", {}, flat("Secrets", P["secret"][r])),
        product("AWSSecretsManager", r, "API Request", q + "AWSSecretsManager-APIRequest", {}, flat("API Requests", 0.05 / 1e4)))
    add("AmazonCloudWatch",
        product("AmazonCloudWatch", r, "Alarm", q + "CW:AlarmMonitorUsage", {}, flat("Alarms", P["alarm"][r])),
        product("AmazonCloudWatch", r, "Dashboard", q + "DashboardsUsageHour-Basic", {}, flat("Dashboards", P["dash"][r])),
        product("AmazonCloudWatch", r, "Metric", q + "CW:MetricMonitorUsage", {},
                [("0", "10000", "Metrics", P["metric"][r]), ("10000", "250000", "Metrics", 0.1)]),
        product("AmazonCloudWatch", r, "Data Payload", q + "DataProcessing-Bytes", {"group": "Ingested Logs"}, flat("GB", P["logsin"][r])),
        product("AmazonCloudWatch", r, "Data Payload", q + "DataProcessingIA-Bytes", {"group": "Ingested Logs IA"}, flat("GB", P["logsin"][r] / 2)),
        product("AmazonCloudWatch", r, "Storage Snapshot", q + "TimedStorage-ByteHrs", {}, flat("GB-Mo", P["logsst"][r])))

for service, products in files.items():
    with open(f"constructed-pricelist-{service}.json", "w") as f:
        json.dump({"what": "constructed by construct_recordings.py in the documented GetProducts shape; not captured from the API",
                   "serviceCode": service, "products": products}, f, indent=1)
        f.write("\n")
