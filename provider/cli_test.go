package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The Pulumi CLI itself (the one the deployer's engine tests build into
// ../.cache/pulumi) loads the built plugin and reads its schema, as
// `pulumi package add` does.
func TestThePulumiCLILoadsThePlugin(t *testing.T) {
	cli, err := filepath.Abs("../.cache/pulumi/bin/pulumi")
	require.NoError(t, err)
	if _, err := os.Stat(cli); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("the Pulumi CLI is not built at %s (.ci/run builds it first): %v", cli, err)
		}
		t.Skipf("SKIPPED: the Pulumi CLI is not built at %s (go test -tags integration -run '^$' ./internal/deploy/ builds it)", cli)
	}
	plugin := filepath.Join(t.TempDir(), "pulumi-resource-access911")
	build := exec.Command("go", "build", "-o", plugin, ".")
	out, err := build.CombinedOutput()
	require.NoError(t, err, "%s", out)
	cmd := exec.Command(cli, "package", "get-schema", plugin)
	cmd.Env = append(os.Environ(), "PULUMI_HOME="+t.TempDir(), "PULUMI_SKIP_UPDATE_CHECK=true")
	schema, err := cmd.Output()
	require.NoError(t, err, "pulumi package get-schema")
	var spec struct {
		Name      string                     `json:"name"`
		Version   string                     `json:"version"`
		Resources map[string]json.RawMessage `json:"resources"`
	}
	require.NoError(t, json.Unmarshal(schema, &spec))
	assert.Equal(t, Name, spec.Name)
	assert.Equal(t, Version, spec.Version)
	assert.Len(t, spec.Resources, 3)
	for _, token := range []string{"access911:components:CallsTable", "access911:components:ArchiveBucket", "access911:components:Alarms"} {
		assert.Contains(t, spec.Resources, token)
	}
}
