// Package synth runs the real Pulumi program offline, under Pulumi's mocks,
// with a stack's configuration read from its Pulumi.<stack>.yaml by Pulumi's
// own project and stack loaders. The offline plan and the tests use it; it
// stands in for `pulumi preview` where the AWS provider plugin is unavailable.
package preview

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/pulumi/esc"
	"github.com/pulumi/pulumi/sdk/v3/go/common/diag"
	"github.com/pulumi/pulumi/sdk/v3/go/common/diag/colors"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/config"
	"github.com/pulumi/pulumi/sdk/v3/go/common/workspace"
)

// Project is a loaded Pulumi project and the directory that holds it.
type Project struct {
	Dir     string
	Project *workspace.Project
}

// LoadProject loads Pulumi.yaml from dir.
func LoadProject(dir string) (*Project, error) {
	p, err := workspace.LoadProject(filepath.Join(dir, "Pulumi.yaml"))
	if err != nil {
		return nil, fmt.Errorf("load project: %w", err)
	}
	return &Project{Dir: dir, Project: p}, nil
}

// Name is the project name.
func (p *Project) Name() string { return string(p.Project.Name) }

// Stacks lists the stack names that have a Pulumi.<stack>.yaml beside the
// project, sorted.
func (p *Project) Stacks() ([]string, error) {
	matches, err := filepath.Glob(filepath.Join(p.Dir, "Pulumi.*.yaml"))
	if err != nil {
		return nil, err
	}
	var names []string
	for _, m := range matches {
		names = append(names, strings.TrimSuffix(strings.TrimPrefix(filepath.Base(m), "Pulumi."), ".yaml"))
	}
	sort.Strings(names)
	return names, nil
}

// StackFile is the path of a stack's settings file.
func (p *Project) StackFile(stack string) string {
	return filepath.Join(p.Dir, "Pulumi."+stack+".yaml")
}

// StackConfig reads Pulumi.<stack>.yaml with Pulumi's loader, applies the
// project's declared defaults and validates the declared types exactly as
// `pulumi up` does, and returns the values the engine would pass to the
// program: "namespace:key" -> string, objects and arrays as JSON. Secrets are
// refused: the offline plan has no way to decrypt them.
func (p *Project) StackConfig(stack string) (map[string]string, error) {
	path := p.StackFile(stack)
	if _, err := os.Stat(path); err != nil {
		// LoadProjectStack treats a missing file as an empty stack; a typo in
		// --stack must not plan an empty configuration.
		return nil, fmt.Errorf("stack %q: %w", stack, err)
	}
	sink := diag.DefaultSink(io.Discard, io.Discard, diag.FormatOptions{Color: colors.Never})
	ps, err := workspace.LoadProjectStack(sink, p.Project, path)
	if err != nil {
		return nil, fmt.Errorf("stack %q: %w", stack, err)
	}
	if ps.Config.HasSecureValue() {
		return nil, fmt.Errorf("stack %q: secret config values cannot be read offline; keep secrets out of the plan's stacks", stack)
	}
	if err := workspace.ValidateStackConfigAndApplyProjectConfig(context.Background(), stack, p.Project,
		esc.Value{}, ps.Config, config.NopEncrypter, config.NopDecrypter); err != nil {
		return nil, fmt.Errorf("stack %q: %w", stack, err)
	}
	decrypted, err := ps.Config.Decrypt(config.NopDecrypter)
	if err != nil {
		return nil, fmt.Errorf("stack %q: %w", stack, err)
	}
	out := make(map[string]string, len(decrypted))
	for k, v := range decrypted {
		out[k.String()] = v
	}
	if len(out) == 0 {
		return nil, errors.New("stack " + stack + ": no configuration")
	}
	return out, nil
}
