package stacks_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/access911/access911-infra/internal/plan"
	"github.com/access911/access911-infra/internal/policy"
	"github.com/access911/access911-infra/stacks/stackconfig"
)

// Policy-style checks over every resource of every stack (with DNS failover
// on, so the whole topology is covered): rules that must hold for anything
// added later, not only for what exists today.
func TestSecurityPolicies(t *testing.T) {
	for _, tc := range stackCases {
		t.Run(tc.stack, func(t *testing.T) {
			res := mustSynthesize(t, tc.stack, withDNS(nil))
			buckets := map[string]bool{}
			for _, r := range res.Custom() {
				switch r.Type {
				case rolePolicyType:
					assertNoWildcardAction(t, r)
				case roleType:
					trust := parsePolicy(t, get(r, "assumeRolePolicy"))
					for _, st := range trust.Statement {
						p, _ := st.Principal.(map[string]any)
						assert.Contains(t, p, "Service", "%s: roles are assumed by AWS services only", r.Name)
					}
				case bucketType:
					buckets[r.Name] = true
					assert.True(t, r.Protect && r.RetainOnDelete, "%s: buckets are protected and retained", r.Name)
				case tableType, replicaType, kmsKeyType:
					assert.True(t, r.Protect, "%s %s: data and keys are protected", r.Type, r.Name)
				case topicType:
					assert.NotEmpty(t, get(r, "kmsMasterKeyId"), "%s: topics are encrypted", r.Name)
				case logGroupType:
					assert.NotNil(t, get(r, "retentionInDays"), "%s: logs do not grow forever", r.Name)
				case functionType:
					assert.Equal(t, "Active", get(r, "tracingConfig.mode"), "%s: traced", r.Name)
				case "aws:apigateway/domainName:DomainName":
					assert.Equal(t, "TLS_1_2", get(r, "securityPolicy"))
				}
			}
			// Every bucket has all four public-access blocks, KMS encryption,
			// versioning and the TLS-only policy.
			for name := range buckets {
				pab := one(t, res, pabType, name)
				for _, k := range []string{"blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"} {
					assert.Equal(t, true, get(pab, k), "%s %s", name, k)
				}
				assert.Equal(t, "aws:kms", get(one(t, res, sseType, name), "rules.0.applyServerSideEncryptionByDefault.sseAlgorithm"))
				assert.Equal(t, "Enabled", get(one(t, res, versioningType, name), "versioningConfiguration.status"))
				doc := parsePolicy(t, get(one(t, res, bucketPolicy, name), "policy"))
				assert.Equal(t, "Deny", doc.Statement[0].Effect)
				assert.Equal(t, map[string]any{"Bool": map[string]any{"aws:SecureTransport": "false"}}, doc.Statement[0].Condition)
			}
			assert.Len(t, buckets, 2)
		})
	}
}

// The policy pack (internal/policy/policy.go: what AWS does that the mocks
// accept) on the whole topology: every stack with DNS failover on and an
// alarm e-mail set, planned together so the cross-region rule on the client
// key sees every region. Nothing fails and nothing warns.
func TestPolicyPackOnTheFullTopology(t *testing.T) {
	edit := withDNS(map[string]string{stackconfig.KeyAlarmEmail: "oncall@example.org"})
	var planned []plan.Stack
	for _, tc := range stackCases {
		_, values := stackFile(t, tc.stack)
		edit(values)
		cfg, err := stackconfig.Parse(values)
		require.NoError(t, err)
		planned = append(planned, plan.Stack{Result: mustSynthesize(t, tc.stack, edit), Config: cfg})
	}
	rep := policy.CheckPolicies(planned)
	assert.Empty(t, rep.Violations)
	assert.Len(t, rep.Rules, 14)
}

func assertNoWildcardAction(t *testing.T, r plan.Resource) {
	t.Helper()
	var doc struct {
		Statement []struct {
			Effect string
			Action []string
		}
	}
	require.NoError(t, json.Unmarshal([]byte(get(r, "policy").(string)), &doc), r.Name)
	for _, st := range doc.Statement {
		for _, a := range st.Action {
			assert.False(t, strings.Contains(a, "*"), "%s: action %q is a wildcard", r.Name, a)
		}
	}
}
