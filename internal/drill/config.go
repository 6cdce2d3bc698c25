package drill

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
)

var activeLine = regexp.MustCompile(`(?m)^(\s*access911:activeRegion:\s*)("?)([a-z0-9-]+)("?)(\s*(#.*)?)$`)

// StackFiles lists Pulumi.<stack>.yaml in dir.
func StackFiles(dir string) ([]string, error) {
	files, err := filepath.Glob(filepath.Join(dir, "Pulumi.*.yaml"))
	if err != nil {
		return nil, err
	}
	sort.Strings(files)
	if len(files) == 0 {
		return nil, fmt.Errorf("no Pulumi.<stack>.yaml in %s", dir)
	}
	return files, nil
}

// ConfiguredActive reads access911:activeRegion from every stack file and
// returns it when they agree.
func ConfiguredActive(dir string) (string, error) {
	files, err := StackFiles(dir)
	if err != nil {
		return "", err
	}
	active := ""
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return "", err
		}
		m := activeLine.FindSubmatch(b)
		if m == nil {
			return "", fmt.Errorf("%s has no access911:activeRegion line", f)
		}
		if active != "" && string(m[3]) != active {
			return "", fmt.Errorf("stack files disagree on access911:activeRegion: %s vs %s in %s", active, m[3], f)
		}
		active = string(m[3])
	}
	return active, nil
}

// SetActive rewrites access911:activeRegion in every stack file, keeping
// every other line, comment and the order as they are. It writes nothing
// unless every file has the line.
func SetActive(dir, region string) ([]string, error) {
	files, err := StackFiles(dir)
	if err != nil {
		return nil, err
	}
	updated := map[string][]byte{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		if !activeLine.Match(b) {
			return nil, fmt.Errorf("%s has no access911:activeRegion line; nothing was changed", f)
		}
		updated[f] = activeLine.ReplaceAll(b, []byte("${1}${2}"+region+"${4}${5}"))
	}
	var changed []string
	for _, f := range files {
		info, err := os.Stat(f)
		if err != nil {
			return changed, err
		}
		tmp := f + ".drill-tmp"
		if err := os.WriteFile(tmp, updated[f], info.Mode().Perm()); err != nil {
			return changed, err
		}
		if err := os.Rename(tmp, f); err != nil {
			return changed, err
		}
		changed = append(changed, filepath.Base(f))
	}
	return changed, nil
}
