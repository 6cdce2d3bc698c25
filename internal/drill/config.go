package drill

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"gopkg.in/yaml.v3"
)

// ProjectFile is the Pulumi project file that holds the shared
// access911:activeRegion (a project-level value every stack reads).
const ProjectFile = "Pulumi.yaml"

// activeRegionKeys are activeRegion's name under config: in Pulumi.yaml,
// where project keys may be written with or without the project namespace.
var activeRegionKeys = []string{"activeRegion", "access911:activeRegion"}

// ConfiguredActive reads the active region from Pulumi.yaml in dir.
func ConfiguredActive(dir string) (string, error) {
	path := filepath.Join(dir, ProjectFile)
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	node, err := activeRegionNode(b)
	if err != nil {
		return "", fmt.Errorf("%s: %w", path, err)
	}
	return node.Value, nil
}

// SetActive sets the active region in Pulumi.yaml. It finds the value with a
// YAML parser and replaces only that scalar's bytes, so comments, order,
// quoting and every other line stay exactly as they are; the file is
// replaced atomically. It returns the file's name when it changed it.
func SetActive(dir, region string) ([]string, error) {
	path := filepath.Join(dir, ProjectFile)
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	node, err := activeRegionNode(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w; nothing was changed", path, err)
	}
	if node.Value == region {
		return nil, nil
	}
	updated, err := replaceScalar(b, node, region)
	if err != nil {
		return nil, fmt.Errorf("%s: %w; nothing was changed", path, err)
	}
	info, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	tmp := path + ".drill-tmp"
	if err := os.WriteFile(tmp, updated, info.Mode().Perm()); err != nil {
		return nil, err
	}
	if err := os.Rename(tmp, path); err != nil {
		return nil, err
	}
	return []string{ProjectFile}, nil
}

// activeRegionNode is the scalar config.activeRegion.value of a Pulumi.yaml.
func activeRegionNode(b []byte) (*yaml.Node, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return nil, err
	}
	if len(doc.Content) == 0 {
		return nil, fmt.Errorf("empty document")
	}
	config := mappingValue(doc.Content[0], "config")
	var entry *yaml.Node
	for _, k := range activeRegionKeys {
		if entry = mappingValue(config, k); entry != nil {
			break
		}
	}
	value := mappingValue(entry, "value")
	if value == nil || value.Kind != yaml.ScalarNode {
		return nil, fmt.Errorf("no config: activeRegion: value: (the shared active region is a project-level value)")
	}
	return value, nil
}

// mappingValue is the value of key in a mapping node, or nil.
func mappingValue(m *yaml.Node, key string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

// replaceScalar replaces a one-line scalar in place, keeping its quoting.
func replaceScalar(b []byte, node *yaml.Node, value string) ([]byte, error) {
	lines := bytes.SplitAfter(b, []byte("\n"))
	if node.Line < 1 || node.Line > len(lines) {
		return nil, fmt.Errorf("value at line %d is outside the file", node.Line)
	}
	line := string(lines[node.Line-1])
	start := node.Column - 1
	token := node.Value
	switch node.Style {
	case yaml.DoubleQuotedStyle:
		token = `"` + token + `"`
	case yaml.SingleQuotedStyle:
		token = "'" + token + "'"
	case 0:
	default:
		return nil, fmt.Errorf("value at line %d is not a plain or quoted scalar", node.Line)
	}
	if start < 0 || !strings.HasPrefix(line[start:], token) {
		return nil, fmt.Errorf("value at line %d is not where the parser says", node.Line)
	}
	quote := ""
	if node.Style != 0 {
		quote = token[:1]
	}
	lines[node.Line-1] = []byte(line[:start] + quote + value + quote + line[start+len(token):])
	return bytes.Join(lines, nil), nil
}
