package drill

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func copyProjectFile(t *testing.T, content []byte) string {
	t.Helper()
	dir := t.TempDir()
	if content == nil {
		var err error
		content, err = os.ReadFile("../../" + ProjectFile)
		require.NoError(t, err)
	}
	require.NoError(t, os.WriteFile(filepath.Join(dir, ProjectFile), content, 0o644))
	return dir
}

// The drill changes the one shared value and nothing else: every comment,
// blank line, the order and the other regions' values stay byte for byte.
func TestSetActiveChangesOnlyTheValue(t *testing.T) {
	dir := copyProjectFile(t, nil)
	before, err := os.ReadFile(filepath.Join(dir, ProjectFile))
	require.NoError(t, err)
	active, err := ConfiguredActive(dir)
	require.NoError(t, err)
	assert.Equal(t, "us-east-1", active)

	changed, err := SetActive(dir, "us-west-2")
	require.NoError(t, err)
	assert.Equal(t, []string{ProjectFile}, changed)
	active, err = ConfiguredActive(dir)
	require.NoError(t, err)
	assert.Equal(t, "us-west-2", active)

	after, err := os.ReadFile(filepath.Join(dir, ProjectFile))
	require.NoError(t, err)
	beforeLines, afterLines := strings.Split(string(before), "\n"), strings.Split(string(after), "\n")
	require.Len(t, afterLines, len(beforeLines))
	var diff []string
	for i := range beforeLines {
		if beforeLines[i] != afterLines[i] {
			diff = append(diff, beforeLines[i]+" -> "+afterLines[i])
		}
	}
	assert.Equal(t, []string{"    value: us-east-1 ->     value: us-west-2"}, diff, "one line changed")
	assert.Contains(t, string(after), "homeRegion:\n    type: string\n    value: us-east-1", "the home region is untouched")

	changed, err = SetActive(dir, "us-west-2")
	require.NoError(t, err)
	assert.Empty(t, changed, "setting the same region again writes nothing")
}

func TestSetActiveKeepsQuotesAndComments(t *testing.T) {
	dir := copyProjectFile(t, []byte("name: x\nconfig:\n  access911:activeRegion:\n    # who takes traffic\n    value: \"us-east-1\" # drill rewrites\n"))
	_, err := SetActive(dir, "eu-west-1")
	require.NoError(t, err)
	b, err := os.ReadFile(filepath.Join(dir, ProjectFile))
	require.NoError(t, err)
	assert.Equal(t, "name: x\nconfig:\n  access911:activeRegion:\n    # who takes traffic\n    value: \"eu-west-1\" # drill rewrites\n", string(b))
}

func TestSetActiveChangesNothingWithoutAProjectValue(t *testing.T) {
	content := []byte("name: x\nconfig:\n  activeRegion:\n    type: string\n    default: us-east-1\n")
	dir := copyProjectFile(t, content)
	_, err := SetActive(dir, "us-west-2")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "nothing was changed")
	b, err := os.ReadFile(filepath.Join(dir, ProjectFile))
	require.NoError(t, err)
	assert.Equal(t, string(content), string(b))
}
