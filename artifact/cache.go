package artifact

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
)

// manifest records what a built zip was built from, so an unchanged tree
// reuses it without running the Go toolchain: the module's own package
// directories the handler imports (their .go files, by content), go.mod,
// go.sum and the Go version. Dependencies outside the module are pinned by
// go.sum.
type manifest struct {
	Dirs        []string `json:"dirs"` // relative to the module root
	Fingerprint string   `json:"fingerprint"`
	SHA256      string   `json:"sha256"`
	Size        int64    `json:"size"`
}

func manifestPath(zipPath string) string { return zipPath + ".inputs.json" }

// cached returns the artifact at zipPath when its manifest's fingerprint
// still matches the sources and the zip is the one recorded.
func cached(moduleDir, zipPath string) (Artifact, bool) {
	b, err := os.ReadFile(manifestPath(zipPath))
	if err != nil {
		return Artifact{}, false
	}
	var m manifest
	if json.Unmarshal(b, &m) != nil || len(m.Dirs) == 0 {
		return Artifact{}, false
	}
	fp, err := fingerprint(moduleDir, m.Dirs)
	if err != nil || fp != m.Fingerprint {
		return Artifact{}, false
	}
	zipped, err := os.ReadFile(zipPath)
	if err != nil {
		return Artifact{}, false
	}
	sum := sha256.Sum256(zipped)
	a := Artifact{Path: zipPath, SHA256: base64.StdEncoding.EncodeToString(sum[:]), Size: int64(len(zipped))}
	return a, a.SHA256 == m.SHA256
}

// remember writes the manifest of a zip just built.
func remember(ctx context.Context, o Options, a Artifact) error {
	dirs, err := localDeps(ctx, o)
	if err != nil {
		return err
	}
	fp, err := fingerprint(o.ModuleDir, dirs)
	if err != nil {
		return err
	}
	b, _ := json.MarshalIndent(manifest{Dirs: dirs, Fingerprint: fp, SHA256: a.SHA256, Size: a.Size}, "", "  ")
	return writeIfChanged(manifestPath(a.Path), b)
}

// localDeps lists the module's own package directories the handler
// imports, as go list sees them for the Lambda's platform and tags.
func localDeps(ctx context.Context, o Options) ([]string, error) {
	cmd := exec.CommandContext(ctx, "go", "list", "-deps", "-tags", "lambda.norpc", "-f", "{{if not .Standard}}{{.Dir}}{{end}}", o.Package)
	cmd.Dir = o.ModuleDir
	cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH=arm64", "CGO_ENABLED=0", "GOFLAGS=-mod=readonly")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("go list: %v: %s", err, strings.TrimSpace(stderr.String()))
	}
	root, err := filepath.Abs(o.ModuleDir)
	if err != nil {
		return nil, err
	}
	var dirs []string
	for _, d := range strings.Fields(string(out)) {
		if rel, err := filepath.Rel(root, d); err == nil && !strings.HasPrefix(rel, "..") {
			dirs = append(dirs, filepath.ToSlash(rel))
		}
	}
	slices.Sort(dirs)
	return dirs, nil
}

// fingerprint hashes the Go version, go.mod, go.sum and every .go file
// (name and content) of dirs; a file added, removed or edited changes it.
func fingerprint(moduleDir string, dirs []string) (string, error) {
	h := sha256.New()
	fmt.Fprintln(h, runtime.Version())
	for _, f := range []string{"go.mod", "go.sum"} {
		if err := hashFile(h, filepath.Join(moduleDir, f), f); err != nil {
			return "", err
		}
	}
	for _, d := range dirs {
		files, err := filepath.Glob(filepath.Join(moduleDir, filepath.FromSlash(d), "*.go"))
		if err != nil {
			return "", err
		}
		slices.Sort(files)
		for _, f := range files {
			if err := hashFile(h, f, filepath.ToSlash(filepath.Join(d, filepath.Base(f)))); err != nil {
				return "", err
			}
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func hashFile(h interface{ Write([]byte) (int, error) }, path, name string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	fmt.Fprintf(h, "%s %d\n", name, len(b))
	_, err = h.Write(b)
	return err
}
