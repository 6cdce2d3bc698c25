package drill

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/user"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
)

// Defaults.
const (
	// DefaultRPOBound is the replication lag a switch accepts without --force.
	DefaultRPOBound = 5 * time.Second
)

// Clients are the AWS clients the drill uses, each built for the region it
// calls: no global service, nothing pinned to one region.
type Clients struct {
	DynamoDB func(region string) *dynamodb.Client
	S3       func(region string) *s3.Client
	// SecretsManager reads the region's replica of the shared API key.
	SecretsManager func(region string) *secretsmanager.Client
	// CloudWatch reads replication latency and pending replication.
	CloudWatch func(region string) *cloudwatch.Client
	HTTP       *http.Client
}

// Options is one drill: a switch (To), an evacuation (Evacuate) or a
// rollback of the last one.
type Options struct {
	// To: deny every region before To in the failover order and allow To.
	To string
	// Evacuate: deny this region (a gray failure: it still answers, but
	// should not take callers); they go to the next allowed, healthy region.
	Evacuate string
	DryRun   bool
	// Force proceeds when the replication lag cannot be measured or is past
	// RPOBound (the region being left is down), or when a recovering region
	// has not caught up.
	Force     bool
	Rollback  bool
	RPOBound  time.Duration
	ReportDir string // where reports are written; rollback reads the last one
	Inventory *Inventory
	Clients   Clients
	Log       io.Writer
	// VerifyWait bounds each wait: readers reporting the change, the target
	// serving, the canary stored, a recovering region catching up.
	VerifyWait time.Duration
	// APIKey is the key our own clients send; empty reads the target's
	// replica of contract.APIKeySecretName.
	APIKey string
	// ThroughName verifies through public DNS: the shared hostname must
	// resolve to the target's regional domain, and the canary goes through
	// it (real deployments; the emulators have no DNS).
	ThroughName bool
	Resolver    *net.Resolver
}

// Step is one step of the report.
type Step struct {
	Name     string        `json:"name"`
	Status   string        `json:"status"` // ok, failed, skipped
	Duration time.Duration `json:"duration_ns"`
	Detail   string        `json:"detail"`
}

// Change is one region's control before and after the drill.
type Change struct {
	Region string `json:"region"`
	Before bool   `json:"allowed_before"`
	After  bool   `json:"allowed_after"`
}

// Report is the outcome of a drill.
type Report struct {
	From     string    `json:"from"`
	To       string    `json:"to"`
	Evacuate string    `json:"evacuate,omitempty"`
	DryRun   bool      `json:"dry_run"`
	Rollback bool      `json:"rollback"`
	Forced   bool      `json:"forced"`
	Who      string    `json:"who"`
	Started  time.Time `json:"started"`
	Finished time.Time `json:"finished"`
	Outcome  string    `json:"outcome"` // switched, refused, dry-run, failed
	Reason   string    `json:"reason,omitempty"`
	// Writer is the region whose table replica took the control writes:
	// the target, never the region being left.
	Writer  string   `json:"writer,omitempty"`
	Changes []Change `json:"changes,omitempty"`
	// RPOMillis is the replication latency from the region being left to
	// the target (DynamoDB's ReplicationLatency); nil when it could not be
	// measured (RPOError says why).
	RPOMillis *int64 `json:"rpo_ms"`
	RPOError  string `json:"rpo_error,omitempty"`
	// RTOMillis: from the control write to the first call stored in the
	// target.
	RTOMillis int64  `json:"rto_ms"`
	Steps     []Step `json:"steps"`
	Path      string `json:"-"`
}

// ErrRefused marks a drill that changed nothing because a check failed.
var ErrRefused = errors.New("drill refused")

type runner struct {
	o   Options
	rep *Report
}

func (r *runner) step(name string, fn func() (string, error)) error {
	start := time.Now()
	fmt.Fprintf(r.o.Log, "  %-40s ... ", name)
	detail, err := fn()
	s := Step{Name: name, Status: "ok", Duration: time.Since(start), Detail: detail}
	if err != nil {
		s.Status, s.Detail = "failed", err.Error()
	}
	r.rep.Steps = append(r.rep.Steps, s)
	fmt.Fprintf(r.o.Log, "%-6s %8s  %s\n", s.Status, s.Duration.Round(time.Millisecond), s.Detail)
	return err
}

func (r *runner) refuse(reason string) error {
	r.rep.Outcome, r.rep.Reason = "refused", reason
	return fmt.Errorf("%w: %s", ErrRefused, reason)
}

// Run performs the drill and always returns a report (also on refusal).
func Run(ctx context.Context, o Options) (*Report, error) {
	if o.Log == nil {
		o.Log = io.Discard
	}
	if o.RPOBound == 0 {
		o.RPOBound = DefaultRPOBound
	}
	if o.VerifyWait == 0 {
		o.VerifyWait = 30 * time.Second
	}
	if o.Clients.HTTP == nil {
		o.Clients.HTTP = &http.Client{Timeout: 5 * time.Second}
	}
	if o.Resolver == nil {
		o.Resolver = net.DefaultResolver
	}
	rep := &Report{Started: time.Now().UTC(), DryRun: o.DryRun, Rollback: o.Rollback, Forced: o.Force, Who: who(), Evacuate: o.Evacuate}
	r := &runner{o: o, rep: rep}
	err := r.run(ctx)
	rep.Finished = time.Now().UTC()
	if err != nil && rep.Outcome == "" {
		rep.Outcome = "failed"
		rep.Reason = err.Error()
	}
	if o.ReportDir != "" {
		if werr := rep.write(o.ReportDir); werr != nil && err == nil {
			err = werr
		}
	}
	return rep, err
}

func (r *runner) run(ctx context.Context) error {
	want, err := r.wanted()
	if err != nil {
		return err
	}
	var view controlView
	if err := r.step("read the control", func() (string, error) {
		view = r.readControls(ctx)
		r.rep.From = view.serving(r.o.Inventory.Order)
		return view.describe(r.o.Inventory.Order), nil
	}); err != nil {
		return err
	}
	changes, target := r.plan(view, want)
	if r.o.To != "" && target != r.o.To {
		return r.refuse(fmt.Sprintf("%s would not take the callers: its API's /health does not answer ok (%s)", r.o.To, view.describe(r.o.Inventory.Order)))
	}
	if target == "" {
		return r.refuse("no region of the failover order " + strings.Join(r.o.Inventory.Order, " > ") + " would be allowed and healthy")
	}
	r.rep.To, r.rep.Changes = target, changes
	if len(changes) == 0 {
		return r.refuse("the control already says so: " + target + " takes the traffic")
	}
	if err := r.gates(ctx, target, changes); err != nil {
		return err
	}
	if r.o.DryRun {
		r.rep.Outcome = "dry-run"
		fmt.Fprintf(r.o.Log, "dry run: would write %s into %s's table replica\n", describeChanges(changes), target)
		return nil
	}
	return r.apply(ctx, target, changes)
}

// wanted is what the drill sets: region -> allowed.
func (r *runner) wanted() (map[string]bool, error) {
	o, inv := r.o, r.o.Inventory
	if inv == nil || len(inv.Order) == 0 {
		return nil, errors.New("the stack outputs name no failover order: set access911:apiHostname and access911:hostedZoneId and deploy")
	}
	switch {
	case o.Rollback:
		prev, err := LastSwitch(o.ReportDir)
		if err != nil {
			return nil, err
		}
		fmt.Fprintf(o.Log, "rollback of the drill at %s (%s)\n", prev.Finished.Format(time.RFC3339), describeChanges(prev.Changes))
		want := map[string]bool{}
		for _, c := range prev.Changes {
			want[c.Region] = c.Before
		}
		return want, nil
	case o.Evacuate != "":
		if _, ok := inv.Regions[o.Evacuate]; !ok {
			return nil, fmt.Errorf("region %q to evacuate is not in the deployment (%s)", o.Evacuate, strings.Join(inv.Names(), ", "))
		}
		return map[string]bool{o.Evacuate: false}, nil
	default:
		if _, ok := inv.Regions[o.To]; !ok {
			return nil, fmt.Errorf("target region %q is not in the deployment (%s)", o.To, strings.Join(inv.Names(), ", "))
		}
		i := slices.Index(inv.Order, o.To)
		if i < 0 {
			return nil, fmt.Errorf("target region %q is not in the failover order (%s): the shared hostname never reaches it", o.To, strings.Join(inv.Order, " > "))
		}
		want := map[string]bool{o.To: true}
		for _, before := range inv.Order[:i] {
			want[before] = false
		}
		return want, nil
	}
}

// plan is the changes the wanted states make to what the readers report,
// and the region that takes the callers after them: the first of the
// order that is allowed and healthy.
func (r *runner) plan(view controlView, want map[string]bool) ([]Change, string) {
	var changes []Change
	after := map[string]bool{}
	for _, region := range r.o.Inventory.Names() {
		before := view.allowed(region)
		after[region] = before
		if w, ok := want[region]; ok {
			after[region] = w
			if w != before {
				changes = append(changes, Change{Region: region, Before: before, After: w})
			}
		}
	}
	for _, region := range r.o.Inventory.Order {
		if after[region] && view.healthy[region] {
			return changes, region
		}
	}
	return changes, ""
}

// gates are the checks before any change: the target can serve, the lag
// from the region being left is within the bound, and a region turned back
// on has caught up.
func (r *runner) gates(ctx context.Context, target string, changes []Change) error {
	to := r.o.Inventory.Regions[target]
	if err := r.step("preflight "+target, func() (string, error) { return r.preflight(ctx, to) }); err != nil {
		return r.refuse("preflight: " + err.Error())
	}
	left := r.rep.From // the region being left: the one serving, or the one evacuated
	if r.o.Evacuate != "" {
		left = r.o.Evacuate
	}
	if left != "" && left != target {
		err := r.step("RPO "+left+" -> "+target, func() (string, error) { return r.rpo(ctx, left, to) })
		if err != nil && !r.o.Force {
			return r.refuse("RPO: " + err.Error() + " (use --force to switch anyway)")
		}
	}
	serving := r.rep.From
	if serving == "" {
		serving = target
	}
	for _, c := range changes {
		if c.After && !c.Before {
			region := c.Region
			err := r.step("caught up: "+region, func() (string, error) { return r.caughtUp(ctx, serving, region) })
			if err != nil && !r.o.Force {
				return r.refuse("failback to " + region + ": " + err.Error() + " (use --force to turn it on anyway)")
			}
		}
	}
	return nil
}

// apply writes the control into the target's replica, then verifies the
// readers, the target and a canary call.
func (r *runner) apply(ctx context.Context, target string, changes []Change) error {
	to := r.o.Inventory.Regions[target]
	r.rep.Writer = target
	var written time.Time
	if err := r.step("set the control in "+target, func() (string, error) {
		var err error
		written, err = r.setControls(ctx, to, changes)
		return describeChanges(changes), err
	}); err != nil {
		return err
	}
	if err := r.step("readers report it", func() (string, error) { return r.verifyReaders(ctx, changes) }); err != nil {
		return err
	}
	if err := r.step("verify "+target+" serves", func() (string, error) { return r.verifyServes(ctx, to) }); err != nil {
		return err
	}
	if err := r.step("canary call stored in "+target, func() (string, error) {
		stored, detail, err := r.canary(ctx, to)
		if err == nil {
			r.rep.RTOMillis = stored.Sub(written).Milliseconds()
		}
		return detail, err
	}); err != nil {
		return err
	}
	r.rep.Outcome = "switched"
	return nil
}

func describeChanges(changes []Change) string {
	var parts []string
	for _, c := range changes {
		state := "denied"
		if c.After {
			state = "allowed"
		}
		parts = append(parts, c.Region+" "+state)
	}
	return strings.Join(parts, ", ")
}

func who() string {
	name := "unknown"
	if u, err := user.Current(); err == nil {
		name = u.Username
	}
	host, _ := os.Hostname()
	return name + "@" + host
}

func (rep *Report) write(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	name := fmt.Sprintf("drill-%s-%s-to-%s.json", rep.Started.Format("20060102T150405.000Z"), orNone(rep.From), orNone(rep.To))
	rep.Path = filepath.Join(dir, name)
	b, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(rep.Path, b, 0o644)
}

func orNone(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

// LastSwitch is the most recent report of a completed drill in dir.
func LastSwitch(dir string) (*Report, error) {
	files, _ := filepath.Glob(filepath.Join(dir, "drill-*.json"))
	sort.Sort(sort.Reverse(sort.StringSlice(files)))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		var rep Report
		if json.Unmarshal(b, &rep) == nil && rep.Outcome == "switched" {
			return &rep, nil
		}
	}
	return nil, fmt.Errorf("no completed drill recorded in %s to roll back", dir)
}

// WriteTable prints the report for a person.
func (rep *Report) WriteTable(w io.Writer) {
	fmt.Fprintf(w, "\nDR drill %s -> %s: %s", orNone(rep.From), orNone(rep.To), strings.ToUpper(rep.Outcome))
	if rep.Reason != "" {
		fmt.Fprintf(w, " (%s)", rep.Reason)
	}
	fmt.Fprintf(w, "\n  by %s, %s .. %s\n", rep.Who, rep.Started.Format(time.RFC3339), rep.Finished.Format(time.RFC3339))
	for _, s := range rep.Steps {
		fmt.Fprintf(w, "  %-38s %-6s %9s  %s\n", s.Name, s.Status, s.Duration.Round(time.Millisecond), s.Detail)
	}
	switch {
	case rep.RPOMillis != nil:
		fmt.Fprintf(w, "  RPO (replication latency %s -> %s): %d ms\n", orNone(rep.From), orNone(rep.To), *rep.RPOMillis)
	case rep.RPOError != "":
		fmt.Fprintf(w, "  RPO (replication latency): not measured: %s\n", rep.RPOError)
	default:
		fmt.Fprintln(w, "  RPO (replication latency): not measured (nothing to switch away from, or the drill stopped before)")
	}
	if rep.Outcome == "switched" {
		fmt.Fprintf(w, "  control written in %s: %s\n", rep.Writer, describeChanges(rep.Changes))
		fmt.Fprintf(w, "  RTO (control written -> first call stored in %s): %d ms\n", rep.To, rep.RTOMillis)
		fmt.Fprintln(w, "  no stack changed: the records and checks are as deployed; `access911 drill --rollback` undoes the control")
	}
	if rep.Path != "" {
		fmt.Fprintf(w, "  report: %s\n", rep.Path)
	}
}
