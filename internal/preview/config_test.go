package preview

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The project and stack files load with Pulumi's own loaders and pass its
// type validation, and the declared defaults are applied as `pulumi up` would.
func TestRealFilesLoadWithPulumiLoaders(t *testing.T) {
	p, err := LoadProject("../..")
	require.NoError(t, err)
	require.NoError(t, p.Project.Validate())
	stacks, err := p.Stacks()
	require.NoError(t, err)
	require.Equal(t, []string{"eu-west-1", "us-east-1", "us-west-2"}, stacks)
	for _, s := range stacks {
		cfg, err := p.StackConfig(s)
		require.NoError(t, err, s)
		assert.Equal(t, s, cfg["aws:region"])
		assert.Equal(t, `["us-east-1","us-west-2","eu-west-1"]`, cfg["access911:regions"], "arrays reach the program as JSON")
		assert.Equal(t, "access911-calls", cfg["access911:tableName"], "project default applied")
		assert.Equal(t, "true", cfg["access911:archiveEuResidency"], "project default applied")
		assert.NotEmpty(t, cfg["access911:expectedLoadRps"])
	}
}

func writeProject(t *testing.T, stackYAML string) *Project {
	t.Helper()
	dir := t.TempDir()
	b, err := os.ReadFile("../../Pulumi.yaml")
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "Pulumi.yaml"), b, 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "Pulumi.test.yaml"), []byte(stackYAML), 0o644))
	p, err := LoadProject(dir)
	require.NoError(t, err)
	return p
}

func TestStackConfigErrors(t *testing.T) {
	tests := []struct {
		name, yaml, want string
	}{
		{"type mismatch", "config:\n  aws:region: us-east-1\n  access911:expectedLoadRps: lots\n  access911:failoverLoadRps: 10\n", "expectedLoadRps' must be of type 'integer'"},
		{"required key missing", "config:\n  aws:region: us-east-1\n  access911:failoverLoadRps: 10\n", "expectedLoadRps"},
		{"secret value", "config:\n  aws:region: us-east-1\n  access911:expectedLoadRps: 1\n  access911:failoverLoadRps: 1\n  access911:tableName:\n    secure: AAABAA==\n", "secret"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := writeProject(t, tc.yaml)
			_, err := p.StackConfig("test")
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
	p := writeProject(t, "config: {}\n")
	_, err := p.StackConfig("nope")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "Pulumi.nope.yaml")
}
