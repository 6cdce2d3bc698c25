// Command access911 is the project's one CLI. Today: `plan`, the offline look
// at what each region stack would create.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/access911/access911-infra/artifact"
	"github.com/access911/access911-infra/internal/plan"
)

const usage = `access911: the access911-infra command line

Usage:
  access911 plan [--stack NAME] [--json] [--dir DIR]
      Run the real Pulumi program offline (Pulumi mocks, no AWS calls) with
      each stack's Pulumi.<stack>.yaml and print what it would create.
  access911 artifact [--dir DIR]
      Build the Lambda deployment package (linux/arm64, reproducible) into
      dist/ and print its path, size and SHA-256. pulumi up builds it too.
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "plan":
		return runPlan(args[1:], stdout, stderr)
	case "artifact":
		return runArtifact(args[1:], stdout, stderr)
	case "-h", "--help", "help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "access911: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
}

func runPlan(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("plan", flag.ContinueOnError)
	fs.SetOutput(stderr)
	stack := fs.String("stack", "", "plan only this stack (default: every Pulumi.<stack>.yaml)")
	asJSON := fs.Bool("json", false, "print one JSON object per stack instead of the table")
	dir := fs.String("dir", "", "directory holding Pulumi.yaml (default: the nearest one at or above the working directory)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "access911 plan: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	projectDir := *dir
	if projectDir == "" {
		var err error
		if projectDir, err = findProject(); err != nil {
			fmt.Fprintf(stderr, "access911 plan: %v\n", err)
			return 1
		}
	}
	var names []string
	if *stack != "" {
		names = []string{*stack}
	}
	planned, err := plan.Load(projectDir, names)
	if err != nil {
		fmt.Fprintf(stderr, "access911 plan: %v\n", err)
		return 1
	}
	if *asJSON {
		err = plan.WriteJSON(stdout, planned)
	} else {
		err = plan.WriteTable(stdout, planned)
	}
	if err != nil {
		fmt.Fprintf(stderr, "access911 plan: %v\n", err)
		return 1
	}
	return 0
}

func runArtifact(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("artifact", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := fs.String("dir", "", "directory holding go.mod and Pulumi.yaml (default: the nearest one)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	projectDir := *dir
	if projectDir == "" {
		var err error
		if projectDir, err = findProject(); err != nil {
			fmt.Fprintf(stderr, "access911 artifact: %v\n", err)
			return 1
		}
	}
	a, err := artifact.Build(context.Background(), artifact.Options{ModuleDir: projectDir})
	if err != nil {
		fmt.Fprintf(stderr, "access911 artifact: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "%s\n  %d bytes, sha256 (base64) %s\n", a.Path, a.Size, a.SHA256)
	return 0
}

// findProject walks up from the working directory to the nearest Pulumi.yaml.
func findProject() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "Pulumi.yaml")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no Pulumi.yaml at or above the working directory (use --dir)")
		}
		dir = parent
	}
}
