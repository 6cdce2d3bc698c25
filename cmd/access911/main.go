// Command access911 is the project's tooling CLI: the offline plan, the local
// run on DynamoDB Local (demo, serve, simulate, load), the DR drill, the
// Lambda artifact build and the benchmark summary. See the usage text.
package main

import (
	"context"
	"errors"
	"fmt"
	"github.com/access911/access911-infra/cmd/access911/cli"
	"github.com/spf13/cobra"
	"io"
	"os"
	"strings"

	"github.com/access911/access911-infra/artifact"
	"github.com/access911/access911-infra/internal/cost"
	"github.com/access911/access911-infra/internal/load"
	"github.com/access911/access911-infra/internal/plan"
	"github.com/access911/access911-infra/internal/policy"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// subcommands are the CLI's commands; each returns errUsage (or a
// usageError) for bad arguments, another error for a failure.
var subcommands = map[string]func(args []string, stdout, stderr io.Writer) error{
	"plan":         runPlan,
	"demo":         runDemo,
	"serve":        runServe,
	"artifact":     runArtifact,
	"load":         runLoad,
	"simulate":     runSimulate,
	"drill":        runDrill,
	"benchsummary": runBenchSummary,
	"webhook-send": runWebhookSend,
	"spike":        runSpike,
	"watch":        runWatch,
	"feed-bench":   runFeedBench,
	"feed-token":   runFeedToken,
	"replay":       runReplay,
	"preflight":    runPreflight,
	"cost":         runCost,
	"prices":       runPrices,
	"preview":      runPreview,
	"up":           runUp,
}

// run executes one command line and returns its exit code: 0, 1 for a
// failure, 2 for a bad invocation. The command tree is cobra's (root.go):
// grouped help, `completion bash|zsh|fish`; each subcommand parses its own
// flags (help.go).
func run(args []string, stdout, stderr io.Writer) int {
	root := newRoot(stdout, stderr)
	if len(args) == 0 {
		root.SetOut(stderr)
		_ = root.Help()
		return 2
	}
	switch args[0] {
	case "-h", "--help", "help":
		_ = root.Help()
		return 0
	}
	if _, known := subcommands[args[0]]; !known && !cobraCommand(root, args[0]) && !strings.HasPrefix(args[0], cobra.ShellCompRequestCmd) {
		fmt.Fprintf(stderr, "access911: unknown command %q\n\n", args[0])
		root.SetOut(stderr)
		_ = root.Help()
		return 2
	}
	root.SetArgs(args)
	err := root.Execute()
	var ue cli.UsageError
	switch {
	case err == nil:
		return 0
	case errors.Is(err, cli.ErrHelp):
		return 0
	case errors.Is(err, cli.ErrUsage):
		return 2
	case errors.Is(err, cli.ErrReported):
		return 1
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "access911 %s: %v\n", args[0], err)
		return 2
	default:
		fmt.Fprintf(stderr, "access911 %s: %v\n", args[0], err)
		return 1
	}
}

func runBenchSummary(args []string, stdout, _ io.Writer) error {
	if len(args) == 1 && cli.IsHelp(args[0]) {
		cli.PrintHelp(stdout, "benchsummary")
		fmt.Fprintln(stdout, "\nArguments:\n  FILE  the output of go test -bench (make bench writes perf/bench.out)")
		return nil
	}
	if len(args) != 1 {
		return cli.UsageError{Msg: "usage: access911 benchsummary FILE"}
	}
	f, err := os.Open(args[0])
	if err != nil {
		return err
	}
	defer f.Close()
	samples, err := load.ParseBench(f)
	if err != nil {
		return err
	}
	load.WriteBenchSummary(stdout, samples)
	return nil
}

func runPlan(args []string, stdout, stderr io.Writer) error {
	fs := cli.NewFlags("plan", stdout, stderr)
	stack := fs.String("stack", "", "plan only this stack (default: every Pulumi.<stack>.yaml)")
	asJSON := fs.Bool("json", false, "print one JSON object per stack instead of the table")
	dir := fs.String("dir", "", "directory holding Pulumi.yaml (default: the nearest one at or above the working directory)")
	if err := fs.ParseArgs(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return cli.UsageError{Msg: fmt.Sprintf("unexpected argument %q", fs.Arg(0))}
	}
	projectDir := *dir
	if projectDir == "" {
		var err error
		if projectDir, err = cli.FindProject(); err != nil {
			return err
		}
	}
	var names []string
	if *stack != "" {
		names = []string{*stack}
	}
	planned, prices, costs, err := planAndCost(projectDir, names)
	if err != nil {
		return err
	}
	if *asJSON {
		err = plan.WriteJSON(stdout, planned, func(s plan.Stack) any {
			for i := range costs {
				if costs[i].Stack == s.Config.Region {
					return &costs[i]
				}
			}
			return nil
		})
	} else if err = plan.WriteTable(stdout, planned); err == nil {
		fmt.Fprintln(stdout)
		cost.WriteCostSummary(stdout, costs, prices)
		if len(names) > 0 {
			fmt.Fprintln(stdout, "  (one stack planned: the writes the other regions' calls replicate into it are not counted; access911 cost counts them)")
		}
	}
	if err != nil {
		return err
	}
	// The policy pack: what AWS would do that the mocks accept. On stderr
	// with --json, so stdout stays one JSON object per stack.
	policies := policy.CheckPolicies(planned)
	out := stdout
	if *asJSON {
		out = stderr
	}
	fmt.Fprintln(out)
	policy.WritePolicies(out, policies)
	if policies.Failed("") {
		return errors.New("the policy pack found a FAIL: fix it before pulumi up (each line names the AWS document)")
	}
	return nil
}

func runArtifact(args []string, stdout, stderr io.Writer) error {
	fs := cli.NewFlags("artifact", stdout, stderr)
	dir := fs.String("dir", "", "directory holding go.mod and Pulumi.yaml (default: the nearest one)")
	if err := fs.ParseArgs(args); err != nil {
		return err
	}
	projectDir := *dir
	if projectDir == "" {
		var err error
		if projectDir, err = cli.FindProject(); err != nil {
			return err
		}
	}
	a, err := artifact.Build(context.Background(), artifact.Options{ModuleDir: projectDir})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s\n  %d bytes, sha256 (base64) %s\n", a.Path, a.Size, a.SHA256)
	return nil
}
