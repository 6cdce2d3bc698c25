package drill

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func copyStackFiles(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	files, err := filepath.Glob("../../Pulumi*.yaml")
	require.NoError(t, err)
	for _, f := range files {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(dir, filepath.Base(f)), b, 0o644))
	}
	return dir
}

func TestSetActiveKeepsEverythingElse(t *testing.T) {
	dir := copyStackFiles(t)
	before, err := os.ReadFile(filepath.Join(dir, "Pulumi.eu-west-1.yaml"))
	require.NoError(t, err)
	active, err := ConfiguredActive(dir)
	require.NoError(t, err)
	assert.Equal(t, "us-east-1", active)

	changed, err := SetActive(dir, "us-west-2")
	require.NoError(t, err)
	assert.Equal(t, []string{"Pulumi.eu-west-1.yaml", "Pulumi.us-east-1.yaml", "Pulumi.us-west-2.yaml"}, changed)
	active, err = ConfiguredActive(dir)
	require.NoError(t, err)
	assert.Equal(t, "us-west-2", active)

	after, err := os.ReadFile(filepath.Join(dir, "Pulumi.eu-west-1.yaml"))
	require.NoError(t, err)
	assert.Equal(t, string(before), strings.Replace(string(after), "access911:activeRegion: us-west-2", "access911:activeRegion: us-east-1", 1),
		"only the activeRegion value changed; comments, order and homeRegion kept")
	assert.Contains(t, string(after), "access911:homeRegion: us-east-1")
}

func TestSetActiveChangesNothingWhenAFileLacksTheKey(t *testing.T) {
	dir := copyStackFiles(t)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "Pulumi.zz-test.yaml"), []byte("config:\n  aws:region: us-east-2\n"), 0o644))
	_, err := SetActive(dir, "us-west-2")
	require.Error(t, err)
	active, err := ConfiguredActive(copyStackFilesFrom(t, dir))
	require.NoError(t, err)
	assert.Equal(t, "us-east-1", active, "no file was rewritten")
}

func copyStackFilesFrom(t *testing.T, dir string) string {
	t.Helper()
	out := t.TempDir()
	for _, n := range []string{"Pulumi.us-east-1.yaml", "Pulumi.us-west-2.yaml", "Pulumi.eu-west-1.yaml"} {
		b, err := os.ReadFile(filepath.Join(dir, n))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(out, n), b, 0o644))
	}
	return out
}
