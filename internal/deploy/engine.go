package deploy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"

	"github.com/blang/semver"
	"github.com/pulumi/pulumi/sdk/v3/go/auto"
)

// Pins are the versions the project's go.mod pins: the Pulumi SDK the
// program is built with and the aws provider SDK, whose plugin the engine
// loads at the same version.
type Pins struct{ SDK, AWSPlugin string }

const (
	sdkModule = "github.com/pulumi/pulumi/sdk/v3"
	awsModule = "github.com/pulumi/pulumi-aws/sdk/v6"
)

// BuildPins reads the pins from this binary's build information: the
// module versions it was built with, which are go.mod's.
func BuildPins() (Pins, error) {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return Pins{}, errors.New("no build information: build with module support")
	}
	var p Pins
	for _, d := range info.Deps {
		switch d.Path {
		case sdkModule:
			p.SDK = d.Version
		case awsModule:
			p.AWSPlugin = d.Version
		}
	}
	if p.SDK == "" || p.AWSPlugin == "" {
		return Pins{}, fmt.Errorf("the build information names no %s or %s", sdkModule, awsModule)
	}
	return p, nil
}

// PulumiCLI is the `pulumi` command at Root/bin (Root empty: the one on
// PATH), for the preflight and the Automation API.
type PulumiCLI struct {
	Root string
	Env  []string // added to the environment of the commands it runs
}

func (c PulumiCLI) path() string {
	if c.Root == "" {
		return "pulumi"
	}
	return filepath.Join(c.Root, "bin", "pulumi")
}

func (c PulumiCLI) run(ctx context.Context, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, c.path(), args...)
	cmd.Env = append(cmd.Environ(), c.Env...)
	out, err := cmd.Output()
	if err != nil {
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			return nil, fmt.Errorf("%s %s: %v: %s", c.path(), strings.Join(args, " "), err, strings.TrimSpace(string(exit.Stderr)))
		}
		return nil, fmt.Errorf("%s: %w", c.path(), err)
	}
	return out, nil
}

// Version is `pulumi version`.
func (c PulumiCLI) Version(ctx context.Context) (string, error) {
	out, err := c.run(ctx, "version")
	if err != nil {
		return "", err
	}
	v := strings.TrimSpace(string(out))
	if v == "" {
		return "", fmt.Errorf("%s reports no version", c.path())
	}
	return v, nil
}

// Plugins is `pulumi plugin ls --json`.
func (c PulumiCLI) Plugins(ctx context.Context) ([]Plugin, error) {
	out, err := c.run(ctx, "plugin", "ls", "--json")
	if err != nil {
		return nil, err
	}
	var listed []struct{ Name, Kind, Version string }
	if err := json.Unmarshal(out, &listed); err != nil {
		return nil, fmt.Errorf("pulumi plugin ls --json: %w", err)
	}
	plugins := make([]Plugin, 0, len(listed))
	for _, p := range listed {
		plugins = append(plugins, Plugin{Kind: p.Kind, Name: p.Name, Version: p.Version})
	}
	return plugins, nil
}

// WhoAmI is `pulumi whoami --verbose`: the user and the backend URL.
func (c PulumiCLI) WhoAmI(ctx context.Context) (string, error) {
	out, err := c.run(ctx, "whoami", "--verbose")
	if err != nil {
		return "", err
	}
	var parts []string
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if line = strings.TrimSpace(line); line != "" {
			parts = append(parts, line)
		}
	}
	return strings.Join(parts, "; "), nil
}

// Command is the CLI for the Automation API, which refuses a CLI older
// than the program's SDK.
func (c PulumiCLI) Command(pins Pins) (auto.PulumiCommand, error) {
	opts := &auto.PulumiCommandOptions{Root: c.Root}
	if v, err := semverOf(pins.SDK); err == nil {
		opts.Version = v
	}
	cmd, err := auto.NewPulumiCommand(opts)
	if err != nil {
		return nil, fmt.Errorf("the Pulumi CLI (%s): %w", c.path(), err)
	}
	return cmd, nil
}

func semverOf(v string) (semver.Version, error) { return semver.ParseTolerant(v) }
