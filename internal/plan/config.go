// Package deploy takes the region stacks from their files to AWS. Offline:
// `access911 plan`, the real Pulumi program run under Pulumi's mocks with
// each stack's configuration (loaded by Pulumi's own project and stack
// loaders), printed as a table or JSON and checked by the policy pack.
// Against an account: `access911 preflight`, and `preview` and `up` of every
// region's stack in the order the global table needs, through Pulumi's
// Automation API (preflight.go, up.go).
//
// Synthesis runs the real Pulumi program offline, under Pulumi's mocks,
// with a stack's configuration read from its Pulumi.<stack>.yaml by Pulumi's
// own project and stack loaders. The offline plan and the tests use it; it
// stands in for `pulumi preview` where the AWS provider plugin is unavailable.
package plan

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/access911/access911-infra/stacks/stackconfig"
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

// Config is a stack's configuration as the engine passes it to the program,
// with where each value came from.
type Config struct {
	// Values are "namespace:key" -> string, objects and arrays as JSON.
	Values map[string]string
	// Sources says where each value came from: the stack file, a Pulumi.yaml
	// project value, or a Pulumi.yaml default.
	Sources map[string]string
}

// Where a configuration value came from.
const (
	SourceProjectValue   = "Pulumi.yaml (value, every stack)"
	SourceProjectDefault = "Pulumi.yaml (default)"
)

// StackConfig reads Pulumi.<stack>.yaml with Pulumi's loader, applies the
// project's declared values and defaults and validates the declared types
// exactly as `pulumi up` does, and returns the values the engine would pass
// to the program. Secrets are refused: the offline plan has no way to
// decrypt them. So is a stack file that sets a key every stack shares
// (stackconfig.SharedKeys): those are written once, in Pulumi.yaml.
func (p *Project) StackConfig(stack string) (Config, error) {
	path := p.StackFile(stack)
	if _, err := os.Stat(path); err != nil {
		// LoadProjectStack treats a missing file as an empty stack; a typo in
		// --stack must not plan an empty configuration.
		return Config{}, fmt.Errorf("stack %q: %w", stack, err)
	}
	sink := diag.DefaultSink(io.Discard, io.Discard, diag.FormatOptions{Color: colors.Never})
	ps, err := workspace.LoadProjectStack(sink, p.Project, path)
	if err != nil {
		return Config{}, fmt.Errorf("stack %q: %w", stack, err)
	}
	if ps.Config.HasSecureValue() {
		return Config{}, fmt.Errorf("stack %q: secret config values cannot be read offline; keep secrets out of the plan's stacks", stack)
	}
	inStackFile := map[string]bool{}
	for k := range ps.Config {
		inStackFile[k.String()] = true
	}
	if err := refuseSharedKeys(filepath.Base(path), inStackFile); err != nil {
		return Config{}, err
	}
	if err := workspace.ValidateStackConfigAndApplyProjectConfig(context.Background(), stack, p.Project,
		esc.Value{}, ps.Config, config.NopEncrypter, config.NopDecrypter); err != nil {
		return Config{}, fmt.Errorf("stack %q: %w", stack, err)
	}
	decrypted, err := ps.Config.Decrypt(config.NopDecrypter)
	if err != nil {
		return Config{}, fmt.Errorf("stack %q: %w", stack, err)
	}
	out := Config{Values: map[string]string{}, Sources: map[string]string{}}
	for k, v := range decrypted {
		key := k.String()
		out.Values[key] = v
		out.Sources[key] = p.source(key, filepath.Base(path), inStackFile[key])
	}
	if len(out.Values) == 0 {
		return Config{}, errors.New("stack " + stack + ": no configuration")
	}
	return out, nil
}

func (p *Project) source(key, stackFile string, inStackFile bool) string {
	if inStackFile {
		return stackFile
	}
	if t, ok := p.Project.Config[strings.TrimPrefix(key, p.Name()+":")]; ok && t.Value != nil {
		return SourceProjectValue
	}
	return SourceProjectDefault
}

func refuseSharedKeys(stackFile string, inStackFile map[string]bool) error {
	var errs []error
	for _, k := range stackconfig.SharedKeys {
		if inStackFile[k] {
			errs = append(errs, fmt.Errorf("%s sets %s, which every stack shares; accepted: set it once in Pulumi.yaml (value:)", stackFile, k))
		}
	}
	return errors.Join(errs...)
}
