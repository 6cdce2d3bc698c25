// Package artifact builds the Lambda deployment package reproducibly: the same
// sources give a byte-identical zip, so `pulumi up` does not redeploy code
// that has not changed. It runs the Go toolchain; it never calls AWS.
package artifact

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/access911/access911-infra/contract"
)

// The binary's name and architecture are the contract's (contract.Binary,
// contract.Architecture): the function component declares the same.
const (
	// HandlerPackage is the Lambda's main package in this module.
	HandlerPackage = "./cmd/lambda"
	// DefaultOutDir is where the zip is written, relative to the module root.
	DefaultOutDir = "dist"
)

// BuildCommand is what a person runs to build the artifact by hand.
const BuildCommand = "make artifact"

// zipTime is the fixed modification time of the zip entry (zip's epoch).
var zipTime = time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)

// Artifact is a built deployment package.
type Artifact struct {
	// Path of the zip file.
	Path string
	// SHA256 is the base64 SHA-256 of the zip, Lambda's source_code_hash.
	SHA256 string
	// Size in bytes.
	Size int64
}

// Options selects what to build.
type Options struct {
	// ModuleDir is the Go module root (holding go.mod).
	ModuleDir string
	// Package to build, relative to ModuleDir; default HandlerPackage.
	Package string
	// OutDir for the zip, relative to ModuleDir unless absolute; default DefaultOutDir.
	OutDir string
}

var (
	mu    sync.Mutex
	built = map[Options]Artifact{}
)

// Build compiles the handler for linux/arm64 with CGO_ENABLED=0, -trimpath,
// no VCS stamp and an empty build id, and zips it with a fixed timestamp and
// mode. Within one process each Options is built once, and across processes
// an unchanged tree reuses the zip (see manifest).
func Build(ctx context.Context, o Options) (Artifact, error) {
	if o.Package == "" {
		o.Package = HandlerPackage
	}
	if o.OutDir == "" {
		o.OutDir = DefaultOutDir
	}
	mu.Lock()
	defer mu.Unlock()
	if a, ok := built[o]; ok {
		return a, nil
	}
	a, err := build(ctx, o)
	if err != nil {
		return Artifact{}, fmt.Errorf("build Lambda artifact %s: %w (build it by hand with `%s`)", o.Package, err, BuildCommand)
	}
	built[o] = a
	return a, nil
}

func build(ctx context.Context, o Options) (Artifact, error) {
	outDir := o.OutDir
	if !filepath.IsAbs(outDir) {
		outDir = filepath.Join(o.ModuleDir, outDir)
	}
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return Artifact{}, err
	}
	tmp, err := os.MkdirTemp(outDir, ".build-")
	if err != nil {
		return Artifact{}, err
	}
	defer os.RemoveAll(tmp)
	name := fmt.Sprintf("%s-linux-%s.zip", filepath.Base(o.Package), contract.Architecture)
	path := filepath.Join(outDir, name)
	if a, ok := cached(o.ModuleDir, path); ok {
		return a, nil // the same sources: the same bytes, without the toolchain
	}
	bin := filepath.Join(tmp, contract.Binary)
	cmd := exec.CommandContext(ctx, "go", "build",
		"-trimpath", "-buildvcs=false", "-tags", "lambda.norpc",
		"-ldflags", "-s -w -buildid=",
		"-o", bin, o.Package)
	cmd.Dir = o.ModuleDir
	cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH="+contract.Architecture, "CGO_ENABLED=0", "GOFLAGS=-mod=readonly")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return Artifact{}, fmt.Errorf("go build: %v: %s", err, strings.TrimSpace(stderr.String()))
	}
	exe, err := os.ReadFile(bin)
	if err != nil {
		return Artifact{}, err
	}
	zipped, err := Zip(exe)
	if err != nil {
		return Artifact{}, err
	}
	if err := writeIfChanged(path, zipped); err != nil {
		return Artifact{}, err
	}
	sum := sha256.Sum256(zipped)
	a := Artifact{Path: path, SHA256: base64.StdEncoding.EncodeToString(sum[:]), Size: int64(len(zipped))}
	if err := remember(ctx, o, a); err != nil {
		return Artifact{}, fmt.Errorf("record the build's inputs: %w", err)
	}
	return a, nil
}

// Zip packs an executable as the single entry "bootstrap" with a fixed
// timestamp and mode 0755, so equal executables give equal zips.
func Zip(exe []byte) ([]byte, error) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	hdr := &zip.FileHeader{Name: contract.Binary, Method: zip.Deflate, Modified: zipTime}
	hdr.SetMode(0o755)
	w, err := zw.CreateHeader(hdr)
	if err != nil {
		return nil, err
	}
	if _, err := w.Write(exe); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// writeIfChanged keeps the file's mtime when the content is the same, and
// replaces it atomically through a temporary file of its own: test
// binaries of several packages build the artifact at once (a shared
// temporary name let one process rename the other's file away).
func writeIfChanged(path string, b []byte) error {
	if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, b) {
		return nil
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name()) // gone after the rename; cleans up after a failure
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Chmod(f.Name(), 0o644); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}
