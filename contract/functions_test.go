package contract

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestFunctionKindAndMissingEnv(t *testing.T) {
	for _, tc := range []struct {
		name    string
		env     map[string]string
		kind    string
		missing []string
	}{
		{"intake", map[string]string{EnvCallsTable: "calls"}, FunctionIntake, nil},
		{"intake without its table", map[string]string{}, FunctionIntake, []string{EnvCallsTable}},
		{"invalidator needs no table", map[string]string{EnvReadCacheRole: ReadCacheInvalidator, EnvReadCacheEndpoint: "c:6379"},
			FunctionCacheInvalidator, nil},
		{"reader", map[string]string{EnvReadCacheEndpoint: "c:6379"}, FunctionCacheReader, []string{EnvCallsTable}},
		{"swarm", map[string]string{EnvFeedRole: FeedRoleSwarm, EnvFeedQueueURLs: "q", EnvFeedPartitions: "25"},
			FeedRoleSwarm, []string{EnvFeedDeliveriesTable}},
		{"unknown role", map[string]string{EnvFeedRole: "juggler"}, "juggler", []string{EnvFeedRole}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			get := func(k string) string { return tc.env[k] }
			assert.Equal(t, tc.kind, FunctionKind(get))
			assert.Equal(t, tc.missing, MissingEnv(get))
		})
	}
	for _, role := range FeedRoles {
		assert.Contains(t, RequiredEnv, role, "every feed role has its requirements")
	}
}
