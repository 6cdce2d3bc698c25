package main

import (
	"encoding/json"
	"sync"
	"testing"

	"github.com/blang/semver"
	p "github.com/pulumi/pulumi-go-provider"
	"github.com/pulumi/pulumi-go-provider/integration"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/tokens"
	"github.com/pulumi/pulumi/sdk/v3/go/property"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// server is the provider under the integration harness; mocks record what
// a construct registers.
func server(t *testing.T, mocks *integration.MockResourceMonitor) integration.Server {
	t.Helper()
	prov, err := Provider()
	require.NoError(t, err)
	opts := []integration.ServerOption{integration.WithProvider(prov)}
	if mocks != nil {
		opts = append(opts, integration.WithMocks(mocks))
	}
	s, err := integration.NewServer(t.Context(), Name, semver.MustParse(Version), opts...)
	require.NoError(t, err)
	return s
}

type schemaSpec struct {
	Name      string `json:"name"`
	Resources map[string]struct {
		IsComponent     bool                      `json:"isComponent"`
		InputProperties map[string]map[string]any `json:"inputProperties"`
		RequiredInputs  []string                  `json:"requiredInputs"`
		Properties      map[string]map[string]any `json:"properties"`
	} `json:"resources"`
}

// The package publishes the three components under the tokens the Go
// components register, their arguments by the pulumi tags, only what has
// no default required.
func TestSchemaPublishesTheComponents(t *testing.T) {
	resp, err := server(t, nil).GetSchema(p.GetSchemaRequest{})
	require.NoError(t, err)
	var spec schemaSpec
	require.NoError(t, json.Unmarshal([]byte(resp.Schema), &spec))
	assert.Equal(t, Name, spec.Name)
	for token, want := range map[string]struct{ required, inputs, outputs []string }{
		"access911:components:CallsTable": {[]string{"name"},
			[]string{"billingMode", "readCapacity", "autoscaling", "hashKey", "rangeKey", "indexes", "ttlAttribute", "globalTableArn", "allowDestroy", "tags"},
			[]string{"tableName", "tableArn", "streamArn", "billingMode"}},
		"access911:components:ArchiveBucket": {[]string{"replicaRegion"},
			[]string{"forceDestroy", "inboxExpiry", "purpose", "glacierAfterDays"},
			[]string{"bucketName", "bucketArn", "kmsKeyArn", "replicaKmsKeyArn", "replicaBucketName"}},
		"access911:components:Alarms": {[]string{"region"},
			[]string{"apiName", "stageName", "functionName", "tableName", "tableIndexes", "topicArn", "accountId", "metricNamespace", "noAppMetrics"},
			[]string{"topicArn", "dashboardName", "alarmArns"}},
	} {
		r, ok := spec.Resources[token]
		require.True(t, ok, "%s is published", token)
		assert.True(t, r.IsComponent, token)
		assert.ElementsMatch(t, want.required, r.RequiredInputs, token)
		for _, in := range append(want.inputs, want.required...) {
			assert.Contains(t, r.InputProperties, in, token)
		}
		for _, out := range want.outputs {
			assert.Contains(t, r.Properties, out, token)
		}
	}
}

// Constructed from another language's plain values, the table is the Go
// component's: its keys, its protections.
func TestConstructTheTableFromPlainValues(t *testing.T) {
	var mu sync.Mutex
	registered := map[string]property.Map{}
	s := server(t, &integration.MockResourceMonitor{NewResourceF: func(args integration.MockResourceArgs) (string, property.Map, error) {
		mu.Lock()
		defer mu.Unlock()
		registered[string(args.TypeToken)] = args.Inputs
		return args.Name + "-id", args.Inputs, nil
	}})
	urn := resource.NewURN("dev", "shop", "", tokens.Type("access911:components:CallsTable"), "orders")
	key := func(name, typ string) property.Value {
		return property.New(property.NewMap(map[string]property.Value{"name": property.New(name), "type": property.New(typ)}))
	}
	_, err := s.Construct(p.ConstructRequest{Urn: urn, Inputs: property.NewMap(map[string]property.Value{
		"name":     property.New("shop-orders"),
		"hashKey":  key("order_id", "S"),
		"rangeKey": key("placed_at", "N"),
		"indexes": property.New(property.NewArray([]property.Value{property.New(property.NewMap(map[string]property.Value{
			"name": property.New("by-customer"), "hashKey": key("customer_id", "S")}))})),
	})})
	require.NoError(t, err)
	table, ok := registered["aws:dynamodb/table:Table"]
	require.True(t, ok, "the table is registered")
	assert.Equal(t, "shop-orders", table.Get("name").AsString())
	assert.Equal(t, "order_id", table.Get("hashKey").AsString())
	assert.Equal(t, "placed_at", table.Get("rangeKey").AsString())
	assert.Equal(t, "PAY_PER_REQUEST", table.Get("billingMode").AsString())
	assert.True(t, table.Get("deletionProtectionEnabled").AsBool(), "protected by default")
	assert.Equal(t, "by-customer", table.Get("globalSecondaryIndexes").AsArray().Get(0).AsMap().Get("name").AsString())
}

// The archive's replica provider is a region name: a provider for it is
// created beside the archive, and the replica bucket goes there.
func TestConstructTheArchiveWithAReplicaRegion(t *testing.T) {
	var mu sync.Mutex
	var types []string
	regions := map[string]string{}
	s := server(t, &integration.MockResourceMonitor{NewResourceF: func(args integration.MockResourceArgs) (string, property.Map, error) {
		mu.Lock()
		defer mu.Unlock()
		types = append(types, string(args.TypeToken))
		if args.TypeToken == "pulumi:providers:aws" {
			regions[args.Name] = args.Inputs.Get("region").AsString()
		}
		return args.Name + "-id", args.Inputs, nil
	}})
	urn := resource.NewURN("dev", "shop", "", tokens.Type("access911:components:ArchiveBucket"), "orders")
	_, err := s.Construct(p.ConstructRequest{Urn: urn, Inputs: property.NewMap(map[string]property.Value{
		"replicaRegion": property.New("eu-west-1"), "purpose": property.New("shop order archive")})})
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"orders-eu-west-1": "eu-west-1"}, regions)
	assert.Contains(t, types, "aws:s3/bucketReplicationConfig:BucketReplicationConfig")

	_, err = s.Construct(p.ConstructRequest{Urn: urn, Inputs: property.NewMap(map[string]property.Value{})})
	require.Error(t, err)
}
