package plan

import (
	"fmt"
	"hash/fnv"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/sig"
	"github.com/pulumi/pulumi/sdk/v3/go/common/tokens"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

type mocks struct {
	project, stack string

	mu             sync.Mutex
	resources      []Resource
	providerRegion map[string]string // provider ID -> region
	invokes        []Invoke
}

func (m *mocks) NewResource(args pulumi.MockResourceArgs) (string, resource.PropertyMap, error) {
	inputs := readable(args.Inputs.Mappable()).(map[string]any)
	// Secret inputs are shown as pulumi preview shows them, never in clear.
	var secrets []string
	for k, v := range args.Inputs {
		if v.ContainsSecrets() {
			inputs[string(k)] = SecretMask
			secrets = append(secrets, string(k))
		}
	}
	sort.Strings(secrets)
	r := Resource{
		Secrets:  secrets,
		Type:     args.TypeToken,
		Name:     args.Name,
		Custom:   args.Custom,
		Provider: args.Provider,
		Inputs:   inputs,
	}
	var parentType tokens.Type
	if rpc := args.RegisterRPC; rpc != nil {
		r.Parent = rpc.GetParent()
		if r.Parent != "" {
			if pt := resource.URN(r.Parent).QualifiedType(); pt != resource.RootStackType {
				parentType = pt
			}
		}
		r.Protect = rpc.GetProtect()
		r.RetainOnDelete = rpc.GetRetainOnDelete()
		r.DeleteBeforeReplace = rpc.GetDeleteBeforeReplace()
		r.IgnoreChanges = rpc.GetIgnoreChanges()
		r.DependsOn = rpc.GetDependencies()
	}
	r.URN = string(resource.NewURN(tokens.QName(m.stack), tokens.PackageName(m.project), parentType,
		tokens.Type(args.TypeToken), args.Name))
	id := args.Name + "-id"
	outputs := resource.NewPropertyMapFromMap(inputs)

	m.mu.Lock()
	defer m.mu.Unlock()
	if strings.HasPrefix(args.TypeToken, ProviderTypePrefix) {
		region, _ := inputs["region"].(string)
		m.providerRegion[id] = region
		r.Region = region
	} else if args.Provider != "" {
		r.Region = m.providerRegion[providerID(args.Provider)]
	}
	if args.Custom {
		if physical := computed(args.TypeToken, args.Name, r.Region, inputs, outputs); physical != "" {
			id = physical
		}
	}
	r.Outputs = outputs.Mappable()
	m.resources = append(m.resources, r)
	return id, outputs, nil
}

// readable replaces Pulumi's signature-tagged asset and archive maps with
// {"archive": path} / {"asset": path}, so the plan reads like the program.
func readable(v any) any {
	switch t := v.(type) {
	case *resource.Archive:
		return map[string]any{"archive": t.Path}
	case *resource.Asset:
		return map[string]any{"asset": t.Path}
	case map[string]any:
		if kind, ok := t[sig.Key].(string); ok && (kind == sig.ArchiveSig || kind == sig.AssetSig) {
			name := map[string]string{sig.ArchiveSig: "archive", sig.AssetSig: "asset"}[kind]
			for _, k := range []string{"path", "uri", "text"} {
				if p, ok := t[k]; ok {
					return map[string]any{name: p}
				}
			}
			return map[string]any{name: "(in-memory)"}
		}
		out := make(map[string]any, len(t))
		for k, x := range t {
			out[k] = readable(x)
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, x := range t {
			out[i] = readable(x)
		}
		return out
	}
	return v
}

// providerID takes the ID out of a provider reference "urn::id".
func providerID(ref string) string {
	if i := strings.LastIndex(ref, "::"); i >= 0 {
		return ref[i+2:]
	}
	return ref
}

// computed fills in the outputs AWS would compute and the program reads
// (names, ARNs), in the shapes AWS uses, so policies and ARNs built from them
// look as they would after a real deployment. It returns the physical ID
// where AWS's ID is the resource's name (buckets, tables), else "".
func computed(token, name, region string, inputs map[string]any, out resource.PropertyMap) string {
	set := func(k, v string) { out[resource.PropertyKey(k)] = resource.NewStringProperty(v) }
	switch token {
	case "aws:s3/bucketV2:BucketV2":
		bucket, _ := inputs["bucket"].(string)
		if bucket == "" {
			bucket = name + "-0123456" // Pulumi auto-naming adds a random suffix
		}
		set("bucket", bucket)
		set("arn", "arn:aws:s3:::"+bucket)
		return bucket
	case "aws:kms/key:Key":
		set("keyId", name+"-key-id")
		set("arn", fmt.Sprintf("arn:aws:kms:%s:%s:key/%s-key-id", region, MockAccountID, name))
	case "aws:iam/role:Role":
		set("name", name)
		set("arn", fmt.Sprintf("arn:aws:iam::%s:role/%s", MockAccountID, name))
	case "aws:dynamodb/table:Table":
		table, _ := inputs["name"].(string)
		if table == "" {
			table = name + "-0123456" // auto-named
			set("name", table)
		}
		arn := fmt.Sprintf("arn:aws:dynamodb:%s:%s:table/%s", region, MockAccountID, table)
		set("arn", arn)
		set("streamArn", arn+"/stream/1970-01-01T00:00:00.000")
		return table
	case "aws:lambda/function:Function":
		fn := name + "-0123456"
		arn := fmt.Sprintf("arn:aws:lambda:%s:%s:function:%s", region, MockAccountID, fn)
		set("name", fn)
		set("arn", arn)
		set("invokeArn", fmt.Sprintf("arn:aws:apigateway:%s:lambda:path/2015-03-31/functions/%s/invocations", region, arn))
	case "aws:lambda/eventSourceMapping:EventSourceMapping":
		// Lambda names a mapping by a UUID (its failure records' key prefix).
		set("uuid", "00000000-0000-4000-8000-"+fmt.Sprintf("%012x", fnv64(name))[:12])
	case "aws:elasticache/serverlessCache:ServerlessCache":
		// Its one endpoint (TLS, port 6379), as the cache reports it.
		host := name + "-0123456.serverless." + region + ".cache.amazonaws.com"
		out["endpoints"] = resource.NewArrayProperty([]resource.PropertyValue{resource.NewObjectProperty(resource.PropertyMap{
			"address": resource.NewStringProperty(host), "port": resource.NewNumberProperty(6379)})})
		set("arn", fmt.Sprintf("arn:aws:elasticache:%s:%s:serverlesscache:%s", region, MockAccountID, name))
	case "aws:cloudwatch/logGroup:LogGroup":
		lg := prefixed(inputs)
		set("name", lg)
		set("arn", fmt.Sprintf("arn:aws:logs:%s:%s:log-group:%s", region, MockAccountID, lg))
	case "aws:apigateway/restApi:RestApi":
		id := name + "-api-id"
		set("name", name+"-0123456")
		set("rootResourceId", name+"-root-id")
		set("executionArn", fmt.Sprintf("arn:aws:execute-api:%s:%s:%s", region, MockAccountID, id))
		return id
	case "aws:apigatewayv2/api:Api":
		id := name + "-ws-id"
		set("apiEndpoint", fmt.Sprintf("wss://%s.execute-api.%s.amazonaws.com", id, region))
		set("executionArn", fmt.Sprintf("arn:aws:execute-api:%s:%s:%s", region, MockAccountID, id))
		return id
	case "aws:apigatewayv2/stage:Stage":
		api, _ := inputs["apiId"].(string)
		stage, _ := inputs["name"].(string)
		set("invokeUrl", fmt.Sprintf("wss://%s.execute-api.%s.amazonaws.com/%s", api, region, stage))
	case "aws:apigateway/stage:Stage":
		api, _ := inputs["restApi"].(string)
		stage, _ := inputs["stageName"].(string)
		set("invokeUrl", fmt.Sprintf("https://%s.execute-api.%s.amazonaws.com/%s", api, region, stage))
	case "aws:sqs/queue:Queue":
		queue := prefixed(inputs)
		set("name", queue)
		set("arn", fmt.Sprintf("arn:aws:sqs:%s:%s:%s", region, MockAccountID, queue))
		set("url", fmt.Sprintf("https://sqs.%s.amazonaws.com/%s/%s", region, MockAccountID, queue))
	case "aws:secretsmanager/secret:Secret":
		secret := prefixed(inputs)
		set("name", secret)
		// Secrets Manager appends six random characters to a secret's ARN.
		set("arn", fmt.Sprintf("arn:aws:secretsmanager:%s:%s:secret:%s-AbCdEf", region, MockAccountID, secret))
	case "aws:sns/topic:Topic":
		set("arn", fmt.Sprintf("arn:aws:sns:%s:%s:%s-0123456", region, MockAccountID, name))
	default:
		computedEdge(token, name, region, inputs, out)
	}
	return ""
}

// computedEdge fills in what AWS computes for the edge: certificates,
// records and custom domains.
func computedEdge(token, name, region string, inputs map[string]any, out resource.PropertyMap) {
	set := func(k, v string) { out[resource.PropertyKey(k)] = resource.NewStringProperty(v) }
	switch token {
	case "aws:acm/certificate:Certificate":
		domain, _ := inputs["domainName"].(string)
		set("arn", fmt.Sprintf("arn:aws:acm:%s:%s:certificate/%s-cert-id", region, MockAccountID, name))
		out["domainValidationOptions"] = resource.NewArrayProperty([]resource.PropertyValue{
			resource.NewObjectProperty(resource.NewPropertyMapFromMap(map[string]any{
				"domainName":          domain,
				"resourceRecordName":  "_0123456789abcdef." + domain + ".",
				"resourceRecordType":  "CNAME",
				"resourceRecordValue": "_fedcba9876543210.acm-validations.aws.",
			})),
		})
	case "aws:route53/record:Record":
		n, _ := inputs["name"].(string)
		set("fqdn", strings.TrimSuffix(n, "."))
	case "aws:apigateway/domainName:DomainName":
		set("regionalDomainName", fmt.Sprintf("d-%s.execute-api.%s.amazonaws.com", region, region))
		set("regionalZoneId", "ZEXAMPLEAPIGW")
	case "aws:apigatewayv2/domainName:DomainName":
		conf, _ := inputs["domainNameConfiguration"].(map[string]any)
		withTarget := map[string]any{"targetDomainName": fmt.Sprintf("d-%s-ws.execute-api.%s.amazonaws.com", region, region),
			"hostedZoneId": "ZEXAMPLEAPIGW"}
		for k, v := range conf {
			withTarget[k] = v
		}
		out["domainNameConfiguration"] = resource.NewObjectProperty(resource.NewPropertyMapFromMap(withTarget))
	case "aws:dynamodb/tableReplica:TableReplica":
		global, _ := inputs["globalTableArn"].(string)
		if i := strings.Index(global, ":table/"); i >= 0 {
			set("arn", fmt.Sprintf("arn:aws:dynamodb:%s:%s%s", region, MockAccountID, global[i:]))
		}
	}
}

// prefixed is the name AWS or Pulumi makes from a namePrefix: the prefix and
// a suffix, here a fixed one.
func prefixed(inputs map[string]any) string {
	prefix, _ := inputs["namePrefix"].(string)
	return prefix + "0123456"
}

func (m *mocks) Call(args pulumi.MockCallArgs) (resource.PropertyMap, error) {
	region := m.regionOf(args.Provider)
	m.mu.Lock()
	m.invokes = append(m.invokes, Invoke{Token: args.Token, Region: region, Args: args.Args.Mappable()})
	m.mu.Unlock()
	switch args.Token {
	case "aws:index/getCallerIdentity:getCallerIdentity":
		return resource.NewPropertyMapFromMap(map[string]any{
			"accountId": MockAccountID,
			"arn":       "arn:aws:iam::" + MockAccountID + ":user/offline-plan",
			"userId":    "OFFLINEPLAN",
			"id":        MockAccountID,
		}), nil
	case "aws:index/getAvailabilityZones:getAvailabilityZones":
		// The region's zones as AWS names them (<region>a, b, c) and their
		// IDs, which AWS lists in no promised order (here not sorted).
		region := m.regionOf(args.Provider)
		short := zoneIDPrefix(region)
		return resource.NewPropertyMapFromMap(map[string]any{
			"names": []any{region + "a", region + "b", region + "c"}, "id": region, "state": "available",
			"zoneIds": []any{short + "-az4", short + "-az1", short + "-az2"},
		}), nil
	case "aws:dynamodb/getTable:getTable":
		// A replica region's table: its own stream, with its own label.
		m.mu.Lock()
		region := m.providerRegion[providerID(args.Provider)]
		m.mu.Unlock()
		name, _ := args.Args["name"].StringValue(), 0
		arn := fmt.Sprintf("arn:aws:dynamodb:%s:%s:table/%s", region, MockAccountID, name)
		return resource.NewPropertyMapFromMap(map[string]any{
			"name": name, "arn": arn, "streamArn": arn + "/stream/1970-01-01T00:00:01.000", "streamEnabled": true,
		}), nil
	case "aws:secretsmanager/getSecretVersion:getSecretVersion":
		// The replica of a secret another stack writes (the shared API key):
		// a placeholder value, which the program marks secret.
		id := args.Args["secretId"].StringValue()
		return resource.NewPropertyMapFromMap(map[string]any{
			"secretId": id, "secretString": "offline-plan-value-of-" + id, "versionId": "offline-plan-version",
			"arn": fmt.Sprintf("arn:aws:secretsmanager:%s:%s:secret:%s-AbCdEf", m.regionOf(args.Provider), MockAccountID, id),
		}), nil
	case "aws:index/getRegion:getRegion":
		m.mu.Lock()
		region := m.providerRegion[providerID(args.Provider)]
		m.mu.Unlock()
		if region == "" {
			return nil, fmt.Errorf("offline plan: getRegion without an explicit provider")
		}
		return resource.NewPropertyMapFromMap(map[string]any{
			"name": region, "id": region, "description": region, "endpoint": "ec2." + region + ".amazonaws.com",
		}), nil
	}
	return nil, fmt.Errorf("offline plan: no mock for function %s", args.Token)
}

// regionOf is the region of an explicit provider reference.
func (m *mocks) regionOf(provider string) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.providerRegion[providerID(provider)]
}

// resolved returns the registered resources sorted by name, then type, so
// the plan reads the same on every run (registration order varies with the
// order in which outputs resolve).
func (m *mocks) resolved() []Resource {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := slices.Clone(m.resources)
	slices.SortStableFunc(out, func(a, b Resource) int {
		if c := strings.Compare(a.Name, b.Name); c != 0 {
			return c
		}
		return strings.Compare(a.Type, b.Type)
	})
	return out
}

// fnv64 is a stable number for a name (mock identifiers).
func fnv64(name string) uint64 {
	h := fnv.New64a()
	_, _ = h.Write([]byte(name))
	return h.Sum64()
}

// zoneIDPrefix is a region's zone ID prefix (us-east-1: use1, eu-west-1:
// euw1), as AWS forms them.
func zoneIDPrefix(region string) string {
	parts := strings.Split(region, "-")
	if len(parts) != 3 {
		return region
	}
	dir := map[string]string{"east": "e", "west": "w", "north": "n", "south": "s", "central": "c", "northeast": "ne",
		"southeast": "se", "northwest": "nw", "southwest": "sw"}[parts[1]]
	return parts[0] + dir + parts[2]
}
