package main

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

// The tree keeps its layout: functions short enough to read at once, a
// small internal/, and only the tooling (cmd/, internal/) importing it.
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
	entries, err := os.ReadDir("internal")
	assert.NoError(t, err)
	var packages []string
	for _, e := range entries {
		if e.IsDir() {
			packages = append(packages, e.Name())
		}
	}
	assert.LessOrEqual(t, len(packages), 6, "internal/ packages: %v", packages)
}
