package main

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

// The tree keeps its layout: functions short enough to read at once, files
// and packages a reader can hold, and only the tooling (cmd/, internal/)
// importing internal/. (Go itself refuses an import cycle.)
func TestLayout(t *testing.T) {
	const module = "github.com/access911/access911-infra/"
	fset := token.NewFileSet()
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (strings.HasPrefix(d.Name(), ".") || d.Name() == "node_modules" || d.Name() == "dist") && path != "." {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		tooling := strings.HasPrefix(path, "cmd/") || strings.HasPrefix(path, "internal/")
		for _, imp := range f.Imports {
			if p := strings.Trim(imp.Path.Value, `"`); strings.HasPrefix(p, module+"internal/") && !tooling {
				t.Errorf("%s imports %s: only cmd/ and internal/ may", path, p)
			}
		}
		for _, decl := range f.Decls {
			if fn, ok := decl.(*ast.FuncDecl); ok {
				if n := fset.Position(fn.End()).Line - fset.Position(fn.Pos()).Line + 1; n > 100 {
					t.Errorf("%s: %s is %d lines (at most 100)", path, fn.Name.Name, n)
				}
			}
		}
		return nil
	})
	assert.NoError(t, err)
	checkSizes(t)
}

// Size limits: no non-test file over maxFileLines, no package over
// maxPackageLines of non-test code (components/ aside: one component per
// file, as many as the platform has).
const (
	maxFileLines    = 500
	maxPackageLines = 1500
)

// oversized are files and packages allowed past the limits, each with its
// size: none today. The test fails when one grows, when a new one appears,
// and when one is split (take it off the list then).
var oversized = map[string]int{}

func checkSizes(t *testing.T) {
	files, packages := map[string]int{}, map[string]int{}
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (strings.HasPrefix(d.Name(), ".") || d.Name() == "node_modules" || d.Name() == "dist" || d.Name() == "examples") && path != "." {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		n := strings.Count(string(b), "\n")
		files[path] = n
		packages[filepath.Dir(path)] += n
		return nil
	})
	assert.NoError(t, err)
	for path, n := range files {
		check(t, path, n, maxFileLines)
	}
	for dir, n := range packages {
		if dir != "components" {
			check(t, dir, n, maxPackageLines)
		}
	}
	for path := range oversized {
		if _, ok := files[path]; !ok {
			if _, ok := packages[path]; !ok {
				t.Errorf("%s is on the oversized list but no longer exists: take it off", path)
			}
		}
	}
}

func check(t *testing.T, path string, n, limit int) {
	known, listed := oversized[path]
	switch {
	case n > limit && !listed:
		t.Errorf("%s is %d lines (at most %d): split it by concern", path, n, limit)
	case listed && n > known:
		t.Errorf("%s grew to %d lines (listed at %d, limit %d): split it rather than grow it", path, n, known, limit)
	case listed && n <= limit:
		t.Errorf("%s is %d lines, within the limit %d: take it off the oversized list", path, n, limit)
	}
}

// No built binary or other large file is committed: the largest tracked
// file today is a 96 KB chart; 1 MB leaves room for data, not for a build.
func TestNoLargeFilesTracked(t *testing.T) {
	out, err := exec.Command("git", "ls-files", "-z").Output()
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("git ls-files: %v (CI runs on a clone)", err)
		}
		t.Skipf("SKIPPED: not a git checkout: %v", err)
	}
	for _, path := range strings.Split(strings.TrimRight(string(out), "\x00"), "\x00") {
		if info, err := os.Stat(path); err == nil && info.Size() > 1<<20 {
			t.Errorf("%s is %d bytes: a build output? add it to .gitignore", path, info.Size())
		}
	}
}
