package emulator

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/access911/access911-infra/artifact"
)

// PulumiCLIModuleDir is the tools module that pins the Pulumi CLI, apart
// from the project's module so the project's SDK pin stays as it is.
const PulumiCLIModuleDir = "tools/pulumi"

// PulumiCLIRoot is where the CLI is built, under the module root: the
// binary is <root>/bin/pulumi, the layout the Automation API's
// auto.NewPulumiCommand expects of its Root.
const PulumiCLIRoot = ".cache/pulumi"

const pulumiCLIPackage = "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi"

var pinnedCLI = regexp.MustCompile(`(?m)^\s*github\.com/pulumi/pulumi/pkg/v3 (v\S+)`)

// PulumiCLIVersion is the CLI version the tools module pins.
func PulumiCLIVersion(moduleRoot string) (string, error) {
	b, err := os.ReadFile(filepath.Join(moduleRoot, PulumiCLIModuleDir, "go.mod"))
	if err != nil {
		return "", fmt.Errorf("the Pulumi CLI's tools module: %w", err)
	}
	m := pinnedCLI.FindSubmatch(b)
	if m == nil {
		return "", fmt.Errorf("%s/go.mod does not require github.com/pulumi/pulumi/pkg/v3", PulumiCLIModuleDir)
	}
	return string(m[1]), nil
}

// InstallPulumiCLI builds the pinned Pulumi CLI from the Go module proxy
// into <module root>/.cache/pulumi/bin when it is not there yet (about 8
// minutes cold on 2 cores, seconds from a warm build cache), and returns
// the root to give auto.PulumiCommandOptions. A CLI built from source
// reports an empty version, which the Automation API refuses, so the build
// stamps the pinned one.
func InstallPulumiCLI(ctx context.Context) (root string, version string, err error) {
	moduleRoot, err := artifact.FindUp(".", "go.mod")
	if err != nil {
		return "", "", err
	}
	if version, err = PulumiCLIVersion(moduleRoot); err != nil {
		return "", "", err
	}
	root = filepath.Join(moduleRoot, PulumiCLIRoot)
	bin := filepath.Join(root, "bin", "pulumi")
	if out, err := exec.CommandContext(ctx, bin, "version").Output(); err == nil && strings.TrimSpace(string(out)) == version {
		return root, version, nil
	}
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin,
		"-ldflags", "-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version="+version, pulumiCLIPackage)
	cmd.Dir = filepath.Join(moduleRoot, PulumiCLIModuleDir)
	done := progress(Progress, fmt.Sprintf("building the Pulumi CLI %s (first run only: minutes cold) into %s", version, bin))
	out, err := cmd.CombinedOutput()
	done(err)
	if err != nil {
		return "", "", fmt.Errorf("go build %s@%s: %v: %s", pulumiCLIPackage, version, err, out)
	}
	return root, version, nil
}
