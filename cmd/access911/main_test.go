package main

import (
	"bytes"
	"encoding/json"
	"github.com/access911/access911-infra/cmd/access911/cli"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/access911/access911-infra/app/feed"
)

const repoRoot = "../.."

func runCLI(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestPlanJSONOneStack(t *testing.T) {
	code, stdout, stderr := runCLI(t, "plan", "--stack", "eu-west-1", "--json", "--dir", repoRoot)
	require.Equal(t, 0, code, stderr)

	dec := json.NewDecoder(strings.NewReader(stdout))
	var obj struct {
		Stack     string `json:"stack"`
		Region    string `json:"region"`
		Resources []struct {
			Type   string         `json:"type"`
			Name   string         `json:"name"`
			Region string         `json:"region"`
			Inputs map[string]any `json:"inputs"`
		} `json:"resources"`
	}
	require.NoError(t, dec.Decode(&obj))
	assert.False(t, dec.More(), "exactly one JSON object for one stack")
	assert.Equal(t, "eu-west-1", obj.Stack)
	assert.Equal(t, "eu-west-1", obj.Region)
	types := map[string]int{}
	for _, r := range obj.Resources {
		types[r.Type]++
		assert.NotEmpty(t, r.Region, "%s %s", r.Type, r.Name)
		assert.NotNil(t, r.Inputs)
		assert.False(t, strings.HasPrefix(r.Type, "pulumi:"), "providers and components are not listed")
		if r.Type == "aws:dynamodb/tableReplica:TableReplica" {
			assert.Equal(t, "eu-west-1", r.Region)
			assert.Equal(t, true, r.Inputs["pointInTimeRecovery"], "Pulumi property names")
		}
		if r.Type == "aws:s3/bucketV2:BucketV2" && r.Name == "access911-archive-replica" {
			assert.Equal(t, "eu-central-1", r.Region)
		}
	}
	assert.Equal(t, 1, types["aws:dynamodb/tableReplica:TableReplica"])
	assert.Equal(t, 2, types["aws:s3/bucketV2:BucketV2"])
	assert.Equal(t, 1, types["aws:s3/bucketReplicationConfig:BucketReplicationConfig"])
}

func TestPlanJSONAllStacks(t *testing.T) {
	code, stdout, stderr := runCLI(t, "plan", "--json", "--dir", repoRoot)
	require.Equal(t, 0, code, stderr)
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	require.Len(t, lines, 3, "one JSON object per stack, one per line")
	var stacks []string
	for _, l := range lines {
		var obj map[string]any
		require.NoError(t, json.Unmarshal([]byte(l), &obj))
		stacks = append(stacks, obj["stack"].(string))
	}
	assert.Equal(t, []string{"us-east-1", "us-west-2", "eu-west-1"}, stacks, "in the order of access911:regions")
}

func TestPlanTable(t *testing.T) {
	code, stdout, stderr := runCLI(t, "plan", "--dir", repoRoot)
	require.Equal(t, 0, code, stderr)
	for _, want := range []string{
		"Stack us-east-1", "Stack us-west-2", "Stack eu-west-1",
		"ACTIVE", "home: owns the global table", "replica of the table in us-east-1",
		"PAY_PER_REQUEST (load 1900 rps > 1000)",
		"this region alone (10x its 30 rps) would give PROVISIONED 150 RCU / 150 WCU",
		"dynamodb.Table", "dynamodb.TableReplica",
		"30d->STANDARD_IA, 90d->GLACIER",
		"replicates eu-west-1 -> eu-central-1",
		"3 stacks synthesized offline",
		"capacity check (enforce)",
		"OK   concurrency at the API rate limit     needed 90 executions, configured 100 executions",
		"lambda.Function", "provided.al2023 arm64, 512 MB, 30s, reserved 100",
		"*/* burst 5000 rate 2000",
	} {
		assert.Contains(t, stdout, want)
	}
	assert.Empty(t, stderr)
}

// copyProject copies Pulumi.yaml and the stack files to a temp dir, so a
// test can break one of them.
func copyProject(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	files, err := filepath.Glob(filepath.Join(repoRoot, "Pulumi*.yaml"))
	require.NoError(t, err)
	require.Len(t, files, 4)
	for _, f := range files {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(dir, filepath.Base(f)), b, 0o644))
	}
	return dir
}

// editFile replaces old with new in Pulumi.<file>.yaml, or in Pulumi.yaml
// when file is "".
func editFile(t *testing.T, dir, file, old, new string) {
	t.Helper()
	path := filepath.Join(dir, "Pulumi.yaml")
	if file != "" {
		path = filepath.Join(dir, "Pulumi."+file+".yaml")
	}
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Contains(t, string(b), old)
	require.NoError(t, os.WriteFile(path, []byte(strings.Replace(string(b), old, new, 1)), 0o644))
}

func TestPlanBrokenStackFile(t *testing.T) {
	tests := []struct {
		name, file, old, new, key string
	}{
		{"non-numeric load", "", "eu-west-1: 30", "eu-west-1: lots", "access911:normalLoadRps"},
		{"negative load", "", "us-west-2: 60", "us-west-2: -600", "access911:normalLoadRps"},
		{"unknown region", "us-west-2", "aws:region: us-west-2", "aws:region: us-west-9", "aws:region"},
		{"active region not served", "", "value: us-east-1", "value: ap-south-1", "access911:activeRegion"},
		{"shared key in a stack file", "us-west-2", "aws:region: us-west-2", "aws:region: us-west-2\n  access911:activeRegion: us-west-2",
			"Pulumi.us-west-2.yaml sets access911:activeRegion, which every stack shares"},
		{"a stack file for a region that does not serve", "us-west-2", "aws:region: us-west-2", "aws:region: us-east-2", "aws:region"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := copyProject(t)
			editFile(t, dir, tc.file, tc.old, tc.new)
			code, stdout, stderr := runCLI(t, "plan", "--dir", dir)
			assert.Equal(t, 1, code)
			assert.Empty(t, stdout, "nothing is planned")
			assert.Contains(t, stderr, tc.key)
		})
	}
}

// A stack whose API rate x p99 duration exceeds the reserved concurrency
// makes plan fail with the numbers.
func TestPlanFailsOnCapacity(t *testing.T) {
	dir := copyProject(t)
	editFile(t, dir, "us-west-2", "aws:region: us-west-2", "aws:region: us-west-2\n  access911:lambdaReservedConcurrency: 60")
	code, stdout, stderr := runCLI(t, "plan", "--stack", "us-west-2", "--dir", dir)
	assert.Equal(t, 1, code)
	assert.Empty(t, stdout)
	assert.Contains(t, stderr, "capacity check failed")
	assert.Contains(t, stderr, "concurrency at the API rate limit")
	assert.Contains(t, stderr, "needed 90 executions, configured 60 executions")
	assert.Contains(t, stderr, "2000 rps x p99 45ms")
}

func TestPlanUnknownStack(t *testing.T) {
	code, _, stderr := runCLI(t, "plan", "--stack", "us-east-2", "--dir", repoRoot)
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, "us-east-2")
	assert.Contains(t, stderr, "stacks here: eu-west-1, us-east-1, us-west-2")
}

func TestUsage(t *testing.T) {
	code, _, stderr := runCLI(t)
	assert.Equal(t, 2, code)
	for _, want := range []string{"Infrastructure (the Pulumi program, offline and deployed):\n  artifact", "Local run (loopback, emulators):\n  demo",
		"Operations:\n  benchsummary", "\n  plan         print, offline,", "\n  drill        move the callers", "completion"} {
		assert.Contains(t, stderr, want)
	}
	code, _, stderr = runCLI(t, "frobnicate")
	assert.Equal(t, 2, code)
	assert.Contains(t, stderr, `unknown command "frobnicate"`)
}

// Every subcommand answers --help with a description and an example on
// stdout, exit 0; a bad flag is still exit 2.
func TestEverySubcommandHasHelp(t *testing.T) {
	for name := range subcommands {
		t.Run(name, func(t *testing.T) {
			require.Contains(t, cli.Helps, name, "add a description and an example to cli.Helps")
			for _, flagName := range []string{"--help", "-h"} {
				var stdout, stderr bytes.Buffer
				code := run([]string{name, flagName}, &stdout, &stderr)
				assert.Equal(t, 0, code, stderr.String())
				assert.Contains(t, stdout.String(), "access911 "+name+": "+cli.Helps[name].What)
				assert.Contains(t, stdout.String(), "Example:\n  "+cli.Helps[name].Example)
			}
		})
	}
	var stdout, stderr bytes.Buffer
	assert.Equal(t, 2, run([]string{"spike", "--no-such-flag"}, &stdout, &stderr))
	assert.Contains(t, stderr.String(), "Example:")
}

// The command line is cobra's: every subcommand in a group, bash
// completion of commands, flags and the stacks a flag names, and the
// single-dash long flags the CLI took before still parse.
func TestCompletionAndFlags(t *testing.T) {
	code, stdout, stderr := runCLI(t, "completion", "bash")
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, stdout, "__start_access911")
	code, stdout, _ = runCLI(t, "__complete", "dr")
	require.Equal(t, 0, code)
	assert.Contains(t, stdout, "drill\tmove the callers")
	code, stdout, _ = runCLI(t, "__complete", "plan", "--st")
	require.Equal(t, 0, code)
	assert.Contains(t, stdout, "--stack\tplan only this stack")
	code, stdout, _ = runCLI(t, "__complete", "drill", "--evacuate", "us-")
	require.Equal(t, 0, code)
	assert.Equal(t, []string{"us-east-1", "us-west-2", ":4"},
		strings.Split(strings.TrimSpace(stdout), "\n"), "the project's stacks, filtered")
	for _, args := range [][]string{{"plan", "-stack", "us-east-1", "-json", "-dir", repoRoot}, {"plan", "--stack=us-east-1", "--json", "--dir", repoRoot}} {
		code, stdout, stderr = runCLI(t, args...)
		require.Equal(t, 0, code, stderr)
		assert.True(t, strings.HasPrefix(stdout, `{"stack":"us-east-1"`), args)
	}
	code, _, stderr = runCLI(t, "plan", "--no-such-flag")
	assert.Equal(t, 2, code)
	assert.Contains(t, stderr, "unknown flag: --no-such-flag")
	assert.Contains(t, stderr, "--stack string")
}

// feed-token mints what the $connect authorizer accepts: signed with the
// current secret of a rotation, for the subject, until the TTL.
func TestFeedTokenVerifies(t *testing.T) {
	t.Setenv(feedSecretEnv, `{"current":"new-secret","previous":"old-secret"}`)
	code, stdout, stderr := runCLI(t, "feed-token", "--subject", "dispatcher-17", "--ttl", "1h")
	require.Equal(t, 0, code, stderr)
	claims, err := feed.VerifyToken(strings.TrimSpace(stdout), []string{"new-secret"}, time.Now())
	require.NoError(t, err)
	assert.Equal(t, "dispatcher-17", claims.Subject)
	_, err = feed.VerifyToken(strings.TrimSpace(stdout), []string{"new-secret"}, time.Now().Add(2*time.Hour))
	assert.ErrorIs(t, err, feed.ErrTokenExpired)
	_, err = feed.VerifyToken(strings.TrimSpace(stdout), []string{"old-secret"}, time.Now())
	assert.Error(t, err, "signed with the current secret, not the previous")

	t.Setenv(feedSecretEnv, "")
	code, _, stderr = runCLI(t, "feed-token", "--subject", "x")
	assert.Equal(t, 2, code)
	assert.Contains(t, stderr, feedSecretEnv)
	assert.Contains(t, stderr, "feedSecretArn")
}

// serve signs the local feed's tokens with $ACCESS911_FEED_SECRET's current
// secret when set, so feed-token's tokens work against it.
func TestServeTakesTheFeedSecretFromTheEnvironment(t *testing.T) {
	for _, tc := range []struct{ env, want string }{
		{"", ""},
		{"fsec_mine", "fsec_mine"},
		{`{"current":"new-secret","previous":"old-secret"}`, "new-secret"},
	} {
		t.Setenv(feedSecretEnv, tc.env)
		got, err := localFeedSecret()
		require.NoError(t, err)
		assert.Equal(t, tc.want, got, tc.env)
	}
	t.Setenv(feedSecretEnv, `{"current":""}`)
	_, err := localFeedSecret()
	assert.ErrorContains(t, err, feedSecretEnv)
}

// A failed spike or feed-bench still ends with its result line, after the
// reason on stderr, and exits 1.
func TestResultLineIsLastEvenOnFailure(t *testing.T) {
	var out, errOut bytes.Buffer
	err := cli.LastLine(&out, &errOut, "feed-bench", "feed: 2 connections, 1 calls, delivered 1, missing 1, duplicates 0, p50 1 ms, p99 1 ms", "1 deliveries missing, 0 duplicated")
	assert.ErrorIs(t, err, cli.ErrReported)
	assert.Equal(t, "feed: 2 connections, 1 calls, delivered 1, missing 1, duplicates 0, p50 1 ms, p99 1 ms\n", out.String())
	assert.Equal(t, "access911 feed-bench: 1 deliveries missing, 0 duplicated\n", errOut.String())
	assert.NoError(t, cli.LastLine(&out, &errOut, "spike", "spike: ok", ""))
	subcommands["test-fail"] = func([]string, io.Writer, io.Writer) error { return cli.ErrReported }
	defer delete(subcommands, "test-fail")
	code, stdout, stderr := runCLI(t, "test-fail")
	assert.Equal(t, 1, code)
	assert.Empty(t, stdout+stderr, "nothing after the result line")
}
