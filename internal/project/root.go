// Package project finds the project's directories.
package project

import (
	"errors"
	"os"
	"path/filepath"
)

// FindUp returns the nearest directory at or above dir that holds marker
// (a file name such as "go.mod" or "Pulumi.yaml").
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
