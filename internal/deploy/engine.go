package deploy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/blang/semver"
	"github.com/pulumi/pulumi/sdk/v3/go/auto"
)

// Pins are the versions the project's go.mod pins: the Pulumi SDK the
// program is built with and the aws provider SDK, whose plugin the engine
// loads at the same version.
type Pins struct{ SDK, AWSPlugin string }

var (
	sdkPin = regexp.MustCompile(`(?m)^\s*github\.com/pulumi/pulumi/sdk/v3 (v\S+)`)
	awsPin = regexp.MustCompile(`(?m)^\s*github\.com/pulumi/pulumi-aws/sdk/v6 (v\S+)`)
)

// ReadPins reads the pins from the go.mod of the project in dir, the
// module the program is built from.
func ReadPins(dir string) (Pins, error) {
	b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
	if err != nil {
		return Pins{}, fmt.Errorf("the program's go.mod: %w", err)
	}
	sdk, aws := sdkPin.FindSubmatch(b), awsPin.FindSubmatch(b)
	if sdk == nil || aws == nil {
		return Pins{}, fmt.Errorf("%s requires no github.com/pulumi/pulumi/sdk/v3 or github.com/pulumi/pulumi-aws/sdk/v6", filepath.Join(dir, "go.mod"))
	}
	return Pins{SDK: string(sdk[1]), AWSPlugin: string(aws[1])}, nil
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
