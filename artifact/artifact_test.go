package artifact

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestZipIsDeterministic(t *testing.T) {
	a, err := Zip([]byte("same executable"))
	require.NoError(t, err)
	b, err := Zip([]byte("same executable"))
	require.NoError(t, err)
	assert.Equal(t, a, b)

	zr, err := zip.NewReader(bytes.NewReader(a), int64(len(a)))
	require.NoError(t, err)
	require.Len(t, zr.File, 1)
	f := zr.File[0]
	assert.Equal(t, "bootstrap", f.Name)
	assert.Equal(t, os.FileMode(0o755), f.Mode().Perm())
	assert.Equal(t, 1980, f.Modified.Year())
}

// Two independent builds of the real handler give byte-identical zips.
func TestBuildIsReproducible(t *testing.T) {
	ctx := context.Background()
	first, err := build(ctx, Options{ModuleDir: "..", Package: HandlerPackage, OutDir: t.TempDir()})
	require.NoError(t, err)
	second, err := build(ctx, Options{ModuleDir: "..", Package: HandlerPackage, OutDir: t.TempDir()})
	require.NoError(t, err)
	assert.Equal(t, first.SHA256, second.SHA256)
	assert.Equal(t, first.Size, second.Size)

	b, err := os.ReadFile(first.Path)
	require.NoError(t, err)
	sum := sha256.Sum256(b)
	assert.Equal(t, base64.StdEncoding.EncodeToString(sum[:]), first.SHA256)
	t.Logf("artifact %s: %d bytes", first.Path, first.Size)
}

func TestBuildFailureSaysHowToBuild(t *testing.T) {
	_, err := Build(context.Background(), Options{ModuleDir: "..", Package: "./does-not-exist", OutDir: t.TempDir()})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "make artifact")
}

// An unchanged tree reuses the zip without the Go toolchain: with go off
// the PATH the second build still succeeds, with the same bytes.
func TestUnchangedSourcesReuseTheZip(t *testing.T) {
	out := t.TempDir()
	first, err := build(context.Background(), Options{ModuleDir: "..", Package: HandlerPackage, OutDir: out})
	require.NoError(t, err)
	t.Setenv("PATH", t.TempDir())
	again, err := build(context.Background(), Options{ModuleDir: "..", Package: HandlerPackage, OutDir: out})
	require.NoError(t, err, "served from the manifest, no go build")
	assert.Equal(t, first, again)
}

func TestFingerprintFollowsTheSources(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644))
	}
	write("go.mod", "module x\n")
	write("go.sum", "")
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "app"), 0o755))
	write("app/a.go", "package app\n")
	fp := func() string {
		f, err := fingerprint(dir, []string{"app"})
		require.NoError(t, err)
		return f
	}
	base := fp()
	assert.Equal(t, base, fp(), "stable")
	write("app/a.go", "package app // edited\n")
	edited := fp()
	assert.NotEqual(t, base, edited, "an edit rebuilds")
	write("app/b.go", "package app\n")
	assert.NotEqual(t, edited, fp(), "a new file rebuilds")
	added := fp()
	write("go.sum", "example.com/m v1.0.0 h1:x\n")
	assert.NotEqual(t, added, fp(), "a dependency change rebuilds")
}

// BenchmarkBuild measures a build of the Lambda artifact with a warm Go build
// cache, as `pulumi up` and the plan do it after a source change;
// BenchmarkBuildUnchanged what they pay when nothing changed.
func BenchmarkBuild(b *testing.B) {
	out := b.TempDir()
	for b.Loop() {
		_ = os.RemoveAll(out)
		if _, err := build(context.Background(), Options{ModuleDir: "..", Package: HandlerPackage, OutDir: out}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkBuildUnchanged(b *testing.B) {
	out := b.TempDir()
	if _, err := build(context.Background(), Options{ModuleDir: "..", Package: HandlerPackage, OutDir: out}); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := build(context.Background(), Options{ModuleDir: "..", Package: HandlerPackage, OutDir: out}); err != nil {
			b.Fatal(err)
		}
	}
}

// Many writers of one file at once (test binaries of several packages
// build the artifact together): every write succeeds and the file holds
// one writer's bytes whole.
func TestConcurrentWritesOfOneFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "lambda.zip")
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- writeIfChanged(path, bytes.Repeat([]byte{byte('a' + i)}, 1<<16))
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Len(t, b, 1<<16)
	assert.Equal(t, bytes.Repeat(b[:1], 1<<16), b, "one writer's bytes, whole")
	left, _ := filepath.Glob(filepath.Join(filepath.Dir(path), ".*"))
	assert.Empty(t, left, "no temporary file left behind")
}
