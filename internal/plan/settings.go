package plan

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// KeySettings summarizes the inputs that matter of one resource in a line.
func KeySettings(r Resource) string {
	var s []string
	switch {
	case strings.HasPrefix(r.Type, "aws:s3/"), strings.HasPrefix(r.Type, "aws:kms/"):
		s = storageSettings(r)
	case strings.HasPrefix(r.Type, "aws:apigateway/"):
		s = edgeSettings(r)
	default:
		s = otherSettings(r)
	}
	return strings.Join(s, ", ")
}

// summary collects the parts of one resource's settings line.
type summary struct {
	in    map[string]any
	parts []string
}

func (x *summary) add(format string, args ...any) {
	x.parts = append(x.parts, fmt.Sprintf(format, args...))
}

// on adds label when the boolean input at path is true.
func (x *summary) on(path, label string) {
	if b, _ := Lookup(x.in, path).(bool); b {
		x.parts = append(x.parts, label)
	}
}

// storageSettings: buckets and keys.
func storageSettings(r Resource) []string {
	x := &summary{in: r.Inputs}
	in, add, on := x.in, x.add, x.on
	switch r.Type {
	case "aws:kms/key:Key":
		on("enableKeyRotation", "rotation")
		add("deletion window %vd", Lookup(in, "deletionWindowInDays"))
	case "aws:s3/bucketV2:BucketV2":
		if b, _ := Lookup(in, "forceDestroy").(bool); !b {
			add("not force-destroyed")
		}
	case "aws:s3/bucketVersioningV2:BucketVersioningV2":
		add("versioning %v", Lookup(in, "versioningConfiguration.status"))
	case "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2":
		add("%v", Lookup(in, "rules.0.applyServerSideEncryptionByDefault.sseAlgorithm"))
		on("rules.0.bucketKeyEnabled", "bucket key")
	case "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock":
		n := 0
		for _, k := range []string{"blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"} {
			if b, _ := Lookup(in, k).(bool); b {
				n++
			}
		}
		add("%d/4 public-access blocks on", n)
	case "aws:s3/bucketPolicy:BucketPolicy":
		add("%s", policySummary(Lookup(in, "policy")))
	case "aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2":
		for i := 0; Lookup(in, "rules.0.transitions."+strconv.Itoa(i)) != nil; i++ {
			p := "rules.0.transitions." + strconv.Itoa(i)
			add("%vd->%v", Lookup(in, p+".days"), Lookup(in, p+".storageClass"))
		}
		add("noncurrent expire %vd", Lookup(in, "rules.0.noncurrentVersionExpiration.noncurrentDays"))
		add("abort MPU %vd", Lookup(in, "rules.0.abortIncompleteMultipartUpload.daysAfterInitiation"))
	case "aws:s3/bucketReplicationConfig:BucketReplicationConfig":
		add("to %v", Lookup(in, "rules.0.destination.bucket"))
		add("delete markers %v", Lookup(in, "rules.0.deleteMarkerReplication.status"))
		add("SSE-KMS objects %v", Lookup(in, "rules.0.sourceSelectionCriteria.sseKmsEncryptedObjects.status"))
		add("RTC %vmin", Lookup(in, "rules.0.destination.replicationTime.time.minutes"))
	}
	return x.parts
}

// edgeSettings: the API Gateway resources.
func edgeSettings(r Resource) []string {
	x := &summary{in: r.Inputs}
	in, add, on := x.in, x.add, x.on
	switch r.Type {
	case "aws:apigateway/methodSettings:MethodSettings":
		add("%v burst %v rate %v", Lookup(in, "methodPath"), Lookup(in, "settings.throttlingBurstLimit"), Lookup(in, "settings.throttlingRateLimit"))
		on("settings.metricsEnabled", "detailed metrics")
	case "aws:apigateway/usagePlan:UsagePlan":
		add("burst %v rate %v", Lookup(in, "throttleSettings.burstLimit"), Lookup(in, "throttleSettings.rateLimit"))
	case "aws:apigateway/method:Method":
		add("%v", Lookup(in, "httpMethod"))
		if b, _ := Lookup(in, "apiKeyRequired").(bool); b {
			add("API key")
		}
		if Lookup(in, "requestValidatorId") != nil {
			add("validated")
		}
		if params, _ := Lookup(in, "requestParameters").(map[string]any); params != nil {
			for p, req := range params {
				if h, ok := strings.CutPrefix(p, "method.request.header."); ok && req == true {
					add("requires %s", h)
				}
			}
		}
		if m := Lookup(in, "requestModels.application/json"); m != nil {
			add("model %v", m)
		}
	case "aws:apigateway/integration:Integration":
		add("%v", Lookup(in, "type"))
		if uri, _ := Lookup(in, "uri").(string); strings.Contains(uri, ":s3:path/") {
			add("%v s3://%s", Lookup(in, "integrationHttpMethod"), uri[strings.Index(uri, ":s3:path/")+len(":s3:path/"):])
		}
	case "aws:apigateway/stage:Stage":
		add("stage %v", Lookup(in, "stageName"))
		on("xrayTracingEnabled", "X-Ray")
		if Lookup(in, "accessLogSettings.format") != nil {
			add("JSON access logs")
		}
	case "aws:apigateway/requestValidator:RequestValidator":
		on("validateRequestBody", "body")
		on("validateRequestParameters", "parameters")
	}
	return x.parts
}

// otherSettings: tables, autoscaling, the function, logs, alarms, topics, IAM.
func otherSettings(r Resource) []string {
	x := &summary{in: r.Inputs}
	in, add, on := x.in, x.add, x.on
	switch r.Type {
	case "aws:secretsmanager/secret:Secret":
		add("recovery window %vd", Lookup(in, "recoveryWindowInDays"))
		if k := Lookup(in, "kmsKeyId"); k != nil {
			add("KMS %v", k)
		}
		if r.Protect {
			add("protected")
		}
	case "aws:secretsmanager/secretVersion:SecretVersion":
		add("value %v", Lookup(in, "secretString"))
	case "aws:dynamodb/table:Table":
		tableSettings(x)
	case "aws:dynamodb/tableReplica:TableReplica":
		add("replica of %v", Lookup(in, "globalTableArn"))
		on("pointInTimeRecovery", "PITR")
		on("deletionProtectionEnabled", "deletion protection")
	case "aws:appautoscaling/target:Target":
		add("%v %v min %v max %v", Lookup(in, "resourceId"), Lookup(in, "scalableDimension"),
			Lookup(in, "minCapacity"), Lookup(in, "maxCapacity"))
	case "aws:appautoscaling/policy:Policy":
		add("target tracking %v at %v%%",
			Lookup(in, "targetTrackingScalingPolicyConfiguration.predefinedMetricSpecification.predefinedMetricType"),
			Lookup(in, "targetTrackingScalingPolicyConfiguration.targetValue"))
	case "aws:lambda/function:Function":
		add("%v %v", Lookup(in, "runtime"), Lookup(in, "architectures.0"))
		reserved := Lookup(in, "reservedConcurrentExecutions")
		if reserved == nil {
			reserved = "none (unreserved)"
		}
		add("%v MB, %vs, reserved %v", Lookup(in, "memorySize"), Lookup(in, "timeout"), reserved)
		add("tracing %v", Lookup(in, "tracingConfig.mode"))
		add("logs %v", Lookup(in, "loggingConfig.logFormat"))
	case "aws:lambda/eventSourceMapping:EventSourceMapping":
		add("batch %v", Lookup(in, "batchSize"))
		if c := Lookup(in, "scalingConfig.maximumConcurrency"); c != nil {
			add("max concurrency %v", c)
		}
		if f := Lookup(in, "filterCriteria.filters.0.pattern"); f != nil {
			add("filter %v", f)
		}
		if d := Lookup(in, "destinationConfig.onFailure.destinationArn"); d != nil {
			add("on failure to a queue")
		}
	case "aws:sqs/queue:Queue":
		if b, _ := Lookup(in, "sqsManagedSseEnabled").(bool); b {
			add("SSE-SQS")
		} else if k := Lookup(in, "kmsMasterKeyId"); k != nil {
			add("SSE-KMS")
		}
		add("retention %vs", Lookup(in, "messageRetentionSeconds"))
		if Lookup(in, "redrivePolicy") != nil {
			add("dead-letters")
		}
	case "aws:apigatewayv2/route:Route":
		add("%v, authorization %v", Lookup(in, "routeKey"), Lookup(in, "authorizationType"))
	case "aws:apigatewayv2/stage:Stage":
		add("throttle %v rps burst %v", Lookup(in, "defaultRouteSettings.throttlingRateLimit"), Lookup(in, "defaultRouteSettings.throttlingBurstLimit"))
		if Lookup(in, "accessLogSettings.destinationArn") != nil {
			add("access logs")
		}
	case "aws:cloudwatch/logGroup:LogGroup":
		add("retention %vd", Lookup(in, "retentionInDays"))
	case "aws:cloudwatch/metricAlarm:MetricAlarm":
		add("%v %v, %v periods", Lookup(in, "comparisonOperator"), Lookup(in, "threshold"), Lookup(in, "evaluationPeriods"))
		add("missing data %v", Lookup(in, "treatMissingData"))
	case "aws:sns/topic:Topic":
		add("KMS %v", Lookup(in, "kmsMasterKeyId"))
	case "aws:iam/role:Role":
		add("%s", policySummary(Lookup(in, "assumeRolePolicy")))
	case "aws:iam/rolePolicy:RolePolicy":
		add("%s", policySummary(Lookup(in, "policy")))
	}
	return x.parts
}

// policySummary lists a policy's statements as Effect:Actions.
func policySummary(v any) string {
	str, _ := v.(string)
	var doc struct {
		Statement []struct {
			Sid    string
			Effect string
			Action []string
		}
	}
	if json.Unmarshal([]byte(str), &doc) != nil {
		return ""
	}
	var parts []string
	for _, st := range doc.Statement {
		p := st.Effect + " " + strings.Join(st.Action, " ")
		if st.Sid != "" && st.Effect == "Deny" {
			p += " (" + st.Sid + ")"
		}
		parts = append(parts, p)
	}
	return strings.Join(parts, "; ")
}

// Lookup walks a dotted path ("rules.0.transitions.1.days") through the
// nested maps and slices of resource inputs; nil when absent.
func Lookup(v any, path string) any {
	for _, part := range strings.Split(path, ".") {
		switch t := v.(type) {
		case map[string]any:
			v = t[part]
		case []any:
			i, err := strconv.Atoi(part)
			if err != nil || i < 0 || i >= len(t) {
				return nil
			}
			v = t[i]
		default:
			return nil
		}
	}
	return v
}

// tableSettings: a table's name (auto-named ones have none), billing, keys,
// index, protections, stream and TTL, each only when set.
func tableSettings(x *summary) {
	in := x.in
	key := func(hash, rng any) string {
		if rng == nil {
			return fmt.Sprint(hash)
		}
		return fmt.Sprintf("%v+%v", hash, rng)
	}
	if n := Lookup(in, "name"); n != nil {
		x.add("%v", n)
	}
	x.add("%v", Lookup(in, "billingMode"))
	if rc := Lookup(in, "readCapacity"); rc != nil {
		x.add("RCU %v / WCU %v", rc, Lookup(in, "writeCapacity"))
	}
	x.add("key %s", key(Lookup(in, "hashKey"), Lookup(in, "rangeKey")))
	if gsi := Lookup(in, "globalSecondaryIndexes.0.name"); gsi != nil {
		x.add("GSI %v(%s)", gsi, key(Lookup(in, "globalSecondaryIndexes.0.hashKey"), Lookup(in, "globalSecondaryIndexes.0.rangeKey")))
	}
	x.on("pointInTimeRecovery.enabled", "PITR")
	x.on("serverSideEncryption.enabled", "SSE-KMS")
	x.on("deletionProtectionEnabled", "deletion protection")
	if st := Lookup(in, "streamViewType"); st != nil {
		x.add("stream %v", st)
	}
	if ttl := Lookup(in, "ttl.attributeName"); ttl != nil {
		x.add("TTL %v", ttl)
	}
}
