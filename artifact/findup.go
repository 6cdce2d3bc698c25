package artifact

import (
	"errors"
	"os"
	"path/filepath"
)

// FindUp returns the nearest directory at or above dir that holds marker
// (a file name such as "go.mod" or "Pulumi.yaml"): the module the artifact
// is built from, or the project the tools work on.
func FindUp(dir, marker string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	for d := abs; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, marker)); err == nil {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", errors.New("no " + marker + " at or above " + abs)
		}
	}
}
