package plan

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
		v := cfg.Values
		assert.Equal(t, s, v["aws:region"])
		assert.Equal(t, "Pulumi."+s+".yaml", cfg.Sources["aws:region"])
		assert.Equal(t, `["us-east-1","us-west-2","eu-west-1"]`, v["access911:regions"], "arrays reach the program as JSON")
		assert.Equal(t, `{"eu-west-1":30,"us-east-1":100,"us-west-2":60}`, v["access911:normalLoadRps"], "objects reach the program as JSON")
		assert.Equal(t, SourceProjectValue, cfg.Sources["access911:normalLoadRps"])
		assert.Equal(t, "access911-calls", v["access911:tableName"], "project value applied")
		assert.Equal(t, "true", v["access911:archiveEuResidency"], "project default applied")
		assert.Equal(t, SourceProjectDefault, cfg.Sources["access911:archiveEuResidency"])
		assert.Len(t, cfg.Sources, len(v), "every value has a source")
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
		{"type mismatch", "config:\n  aws:region: us-east-1\n  access911:lambdaMemoryMb: lots\n", "lambdaMemoryMb' must be of type 'integer'"},
		{"secret value", "config:\n  aws:region: us-east-1\n  access911:alarmEmail:\n    secure: AAABAA==\n", "secret"},
		{"shared key in a stack file", "config:\n  aws:region: us-east-1\n  access911:activeRegion: us-west-2\n  access911:tableName: other\n",
			"Pulumi.test.yaml sets access911:activeRegion, which every stack shares; accepted: set it once in Pulumi.yaml"},
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
