package main

import (
	"github.com/access911/access911-infra/cmd/access911/cli"
	"io"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/access911/access911-infra/internal/plan"
)

// Command groups, in the order `access911 --help` lists them.
var groups = []struct{ id, title string }{
	{"infra", "Infrastructure (the Pulumi program, offline and deployed):"},
	{"local", "Local run (loopback, emulators):"},
	{"ops", "Operations:"},
}

// groupOf places each subcommand in its group.
var groupOf = map[string]string{
	"plan": "infra", "cost": "infra", "prices": "infra", "preflight": "infra", "preview": "infra", "up": "infra", "artifact": "infra",
	"demo": "local", "serve": "local", "simulate": "local", "load": "local", "spike": "local", "watch": "local",
	"feed-bench": "local", "feed-token": "local", "webhook-send": "local",
	"drill": "ops", "replay": "ops", "benchsummary": "ops",
}

// newRoot is the command tree: one cobra command per subcommand, its help
// from helps (the description and example) and its flags from the
// subcommand's own flag set, which it parses itself (the same flags and
// output as before cobra), plus cobra's `completion`.
func newRoot(stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:           "access911",
		Short:         "access911-infra: the offline plan, the deployer, the local run and the DR drill",
		SilenceErrors: true,
		SilenceUsage:  true,
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	for _, g := range groups {
		root.AddGroup(&cobra.Group{ID: g.id, Title: g.title})
	}
	names := make([]string, 0, len(subcommands))
	for name := range subcommands {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		run := subcommands[name]
		root.AddCommand(&cobra.Command{
			Use:                name,
			Short:              cli.Helps[name].What,
			Long:               cli.LongHelp[name],
			Example:            "  " + cli.Helps[name].Example,
			GroupID:            groupOf[name],
			DisableFlagParsing: true,
			RunE:               func(_ *cobra.Command, args []string) error { return run(args, stdout, stderr) },
			ValidArgsFunction:  completeArgs(name),
		})
	}
	root.InitDefaultCompletionCmd()
	return root
}

// cobraCommand says whether cobra itself answers name (completion, help).
func cobraCommand(root *cobra.Command, name string) bool {
	c, _, err := root.Find([]string{name})
	return err == nil && c != root
}

// flagsOf is a subcommand's flag set, defined without running it.
func flagsOf(name string) *pflag.FlagSet {
	if fs, ok := cli.DefinedFlags[name]; ok {
		return fs
	}
	_ = subcommands[name]([]string{cli.FlagsOnly}, io.Discard, io.Discard)
	return cli.DefinedFlags[name]
}

// completeArgs completes a subcommand's flags, and the values of the flags
// that name stacks or regions from the project's stack files.
func completeArgs(name string) cobra.CompletionFunc {
	return func(_ *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
		fs := flagsOf(name)
		if strings.HasPrefix(toComplete, "-") && fs != nil {
			var out []cobra.Completion
			fs.VisitAll(func(f *pflag.Flag) {
				if c := "--" + f.Name; strings.HasPrefix(c, toComplete) {
					out = append(out, cobra.CompletionWithDesc(c, f.Usage))
				}
			})
			return out, cobra.ShellCompDirectiveNoFileComp
		}
		if len(args) > 0 {
			switch strings.TrimLeft(args[len(args)-1], "-") {
			case "stack", "from", "to", "evacuate", "region", "regions":
				return stackNames(toComplete), cobra.ShellCompDirectiveNoFileComp
			}
		}
		return nil, cobra.ShellCompDirectiveDefault
	}
}

// stackNames are the project's stacks (Pulumi.<stack>.yaml), which are its
// regions, for completion.
func stackNames(prefix string) []cobra.Completion {
	dir, err := cli.FindProject()
	if err != nil {
		return nil
	}
	proj, err := plan.LoadProject(dir)
	if err != nil {
		return nil
	}
	stacks, err := proj.Stacks()
	if err != nil {
		return nil
	}
	var out []cobra.Completion
	for _, s := range stacks {
		if strings.HasPrefix(s, prefix) {
			out = append(out, s)
		}
	}
	return out
}
