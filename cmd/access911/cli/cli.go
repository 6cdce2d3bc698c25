// Package cli is the access911 command line's plumbing: each command's flag
// set (GNU-style, pflag), its help text, the errors that set the exit code,
// and finding the project.
package cli

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/pflag"

	"github.com/access911/access911-infra/artifact"
)

// ErrHelp is a --help that was answered: exit 0.
var ErrHelp = errors.New("help")

// Help is one command's one-line description and an example.
type Help struct{ What, Example string }

// Helps describe every subcommand for its --help.
var Helps = map[string]Help{
	"plan": {"print, offline, what each region stack would create, its effective config and its capacity check",
		"access911 plan --stack us-east-1"},
	"demo": {"the main job: the seed's 1000-call nashville_tornado simulation on DynamoDB Local, read back by type",
		"access911 demo"},
	"serve": {"serve the API on loopback against DynamoDB Local, with the stack's throttling and the durable intake on moto",
		"access911 serve --stack us-east-1 --addr 127.0.0.1:8911"},
	"load": {"load the API with a realistic request mix, bounded in count and time, and chart the result",
		"access911 load --profile 100rps:10s,500rps:10s --throttle-rate 300 --throttle-burst 100"},
	"simulate": {"POST /simulate once, against a deployment or a local server started for it",
		"access911 simulate --scenario gulf_hurricane --num-calls 500"},
	"spike": {"a bounded 10x spike on the local stack with table throttling or an outage; every call stored once or exit 1",
		"access911 spike --fault outage --outage 10s"},
	"replay": {"list (default) or move (--apply) the intake's dead-lettered calls back to the intake queue; --inbox re-drives failed inbox deliveries; --stream-failures re-broadcasts the feed's discarded stream batches",
		`access911 replay --queue-url "$(pulumi stack output intakeQueueUrl)" --dlq-url "$(pulumi stack output intakeDlqUrl)"` + "\n  " +
			`access911 replay --inbox --failures-url "$(pulumi stack output inboxFailuresQueueUrl)" --apply` + "\n  " +
			`access911 replay --stream-failures --bucket "$(pulumi stack output archiveBucketName)" --function "$(pulumi stack output feedSwarmFunctionName)" --region us-east-1 --apply`},
	"watch": {"the dispatcher console: print each new call the feed pushes, with its delivery latency",
		"access911 watch --url ws://127.0.0.1:PORT/ --token TOKEN --types fire,flood"},
	"feed-token": {"mint a dispatcher token for the feed, signed with $ACCESS911_FEED_SECRET",
		"ACCESS911_FEED_SECRET=... access911 feed-token --subject dispatcher-17 --ttl 12h"},
	"feed-bench": {"open N WebSocket connections to the local feed, send M calls, and measure every delivery",
		"access911 feed-bench --connections 1000 --calls 10"},
	"webhook-send": {"send one realistic, signed provider delivery to a deployment or to a local server",
		"ELEVENLABS_WEBHOOK_SECRET=wsec_... access911 webhook-send --type post_call_transcription --target URL"},
	"drill": {"move the callers with the failover control (a table write, no Route 53 call): --to, --evacuate, --rollback",
		"access911 drill --to us-west-2 --dry-run"},
	"preflight": {"check, before anything is touched, what deploying needs: account, Lambda and API Gateway quotas, Pulumi CLI and plugin, hosted zone, secrets",
		"access911 preflight --regions us-east-1,us-west-2"},
	"preview": {"the preflight, then pulumi preview of every region's stack in deployment order (Automation API)",
		"access911 preview"},
	"up": {"the preflight, then pulumi up of the home region, then each other region once the one before serves; --from resumes",
		"access911 up --yes --from us-west-2"},
	"cost": {"price every stack on standby, at normal load, after a failover and for an hour of the 10x spike, line by line with each price's source",
		"access911 cost --stack us-east-1"},
	"prices": {"the price table's date and provenance; --refresh looks the prices up in the AWS Price List Query API and rewrites it",
		"access911 prices --refresh --regions eu-west-1,eu-central-1"},
	"artifact": {"build the Lambda deployment package (linux/arm64, reproducible) into dist/",
		"access911 artifact"},
	"benchsummary": {"medians and ratios of a go test -bench output (make bench uses it)",
		"access911 benchsummary perf/bench.out"},
}

// Flags is a subcommand's flag set, GNU-style (pflag, as cobra and the
// Pulumi CLI use): its --help prints the description, an example and the
// flags to stdout and exits 0; a bad flag prints the same to stderr and
// exits 2. The single-dash long forms (-stack) that the CLI took before keep
// working: parse rewrites them to --stack.
type Flags struct {
	*pflag.FlagSet
	name   string
	stdout io.Writer
}

func NewFlags(name string, stdout, stderr io.Writer) *Flags {
	fs := &Flags{FlagSet: pflag.NewFlagSet(name, pflag.ContinueOnError), name: name, stdout: stdout}
	fs.SetOutput(stderr)
	fs.Usage = func() {
		PrintHelp(fs.Output(), name)
		fmt.Fprintln(fs.Output(), "\nFlags:")
		fs.PrintDefaults()
	}
	return fs
}

// FlagsOnly, as the only argument, makes a subcommand define its flags and
// return them (ErrFlagsOnly) without running: completion reads them.
const FlagsOnly = "\x00flags"

var (
	ErrFlagsOnly = errors.New("flags only")
	DefinedFlags = map[string]*pflag.FlagSet{}
)

func (fs *Flags) ParseArgs(args []string) error {
	if len(args) == 1 && args[0] == FlagsOnly {
		DefinedFlags[fs.name] = fs.FlagSet
		return ErrFlagsOnly
	}
	for _, a := range args {
		if a == "--" {
			break
		}
		if IsHelp(a) {
			fs.SetOutput(fs.stdout)
			fs.Usage()
			return ErrHelp
		}
	}
	if err := fs.Parse(fs.gnu(args)); err != nil {
		fmt.Fprintf(fs.Output(), "access911 %s: %v\n", fs.name, err)
		fs.Usage()
		return ErrUsage
	}
	return nil
}

// gnu rewrites -name and -name=value to --name when name is a long flag.
func (fs *Flags) gnu(args []string) []string {
	out := make([]string, 0, len(args))
	for i, a := range args {
		if a == "--" {
			return append(out, args[i:]...)
		}
		if len(a) > 2 && a[0] == '-' && a[1] != '-' {
			name, _, _ := strings.Cut(a[1:], "=")
			if len(name) > 1 && fs.Lookup(name) != nil {
				a = "-" + a
			}
		}
		out = append(out, a)
	}
	return out
}

func IsHelp(arg string) bool { return arg == "-h" || arg == "-help" || arg == "--help" }

func PrintHelp(w io.Writer, name string) {
	h := Helps[name]
	fmt.Fprintf(w, "access911 %s: %s\n", name, h.What)
	if long := LongHelp[name]; long != "" {
		fmt.Fprintf(w, "\n%s\n", long)
	}
	fmt.Fprintf(w, "\nExample:\n  %s\n", h.Example)
}

// ErrUsage is a bad invocation whose reason was already printed: exit 2.
var ErrUsage = errors.New("usage")

// UsageError is a bad invocation: exit code 2.
type UsageError struct{ Msg string }

func (e UsageError) Error() string { return e.Msg }

// ErrReported is a failure already explained: exit 1, print nothing more.
var ErrReported = errors.New("reported")

// LastLine prints a command's result line last (tools and people read the
// last line), after saying on stderr why the run failed, if it did.
func LastLine(stdout, stderr io.Writer, cmd, line, failure string) error {
	if failure != "" {
		fmt.Fprintf(stderr, "access911 %s: %s\n", cmd, failure)
	}
	fmt.Fprintln(stdout, line)
	if failure != "" {
		return ErrReported
	}
	return nil
}

// ProjectDirOr is dir, or else the nearest project (FindProject).
func ProjectDirOr(dir string) (string, error) {
	if dir != "" {
		return dir, nil
	}
	return FindProject()
}

// FindProject is the nearest directory holding Pulumi.yaml at or above the
// working directory.
func FindProject() (string, error) {
	dir, err := artifact.FindUp(".", "Pulumi.yaml")
	if err != nil {
		return "", fmt.Errorf("%w (use --dir)", err)
	}
	return dir, nil
}
