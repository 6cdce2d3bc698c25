package drill

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/access911/access911-infra/contract"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	r53types "github.com/aws/aws-sdk-go-v2/service/route53/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
)

// Defaults.
const (
	// DefaultRPOBound is the replication lag a switch accepts without --force.
	DefaultRPOBound = 5 * time.Second
)

// Clients are the AWS clients the drill uses; Route53 is global, the others
// per region.
type Clients struct {
	Route53  *route53.Client
	DynamoDB func(region string) *dynamodb.Client
	S3       func(region string) *s3.Client
	// SecretsManager reads the region's replica of the shared API key.
	SecretsManager func(region string) *secretsmanager.Client
	HTTP           *http.Client
}

// Options is one drill.
type Options struct {
	To         string
	DryRun     bool
	Force      bool
	Rollback   bool
	RPOBound   time.Duration
	StackDir   string // holds Pulumi.yaml, whose activeRegion value the drill sets
	ReportDir  string // where reports are written; rollback reads the last one
	Inventory  *Inventory
	Clients    Clients
	Log        io.Writer
	VerifyWait time.Duration // how long verification may take; default 30 s
	// APIKey is the key our own clients send, for the probe of a keyed
	// route in the target region; empty reads the region's replica of
	// contract.APIKeySecretName.
	APIKey string
	// ThroughName also requests https://<hostname>/health through the
	// system resolver until the target answers (real deployments; the
	// emulators have no DNS). Allow VerifyWait for the record TTL.
	ThroughName bool
}

// Step is one step of the report.
type Step struct {
	Name     string        `json:"name"`
	Status   string        `json:"status"` // ok, failed, skipped
	Duration time.Duration `json:"duration_ns"`
	Detail   string        `json:"detail"`
}

// Report is the outcome of a drill.
type Report struct {
	From     string    `json:"from"`
	To       string    `json:"to"`
	DryRun   bool      `json:"dry_run"`
	Rollback bool      `json:"rollback"`
	Forced   bool      `json:"forced"`
	Who      string    `json:"who"`
	Started  time.Time `json:"started"`
	Finished time.Time `json:"finished"`
	Outcome  string    `json:"outcome"` // switched, refused, dry-run, failed
	Reason   string    `json:"reason,omitempty"`
	// RPOMillis is the canary's replication lag; nil when the probe could
	// not measure it (RPOError says why).
	RPOMillis *int64   `json:"rpo_ms"`
	RPOError  string   `json:"rpo_error,omitempty"`
	RTOMillis int64    `json:"rto_ms"`
	Steps     []Step   `json:"steps"`
	PulumiUp  []string `json:"pulumi_up,omitempty"`
	Path      string   `json:"-"`
}

// ErrRefused marks a drill that changed nothing because a check failed.
var ErrRefused = errors.New("drill refused")

type runner struct {
	o   Options
	rep *Report
}

func (r *runner) step(name string, fn func() (string, error)) error {
	start := time.Now()
	fmt.Fprintf(r.o.Log, "  %-36s ... ", name)
	detail, err := fn()
	s := Step{Name: name, Status: "ok", Duration: time.Since(start), Detail: detail}
	if err != nil {
		s.Status, s.Detail = "failed", err.Error()
	}
	r.rep.Steps = append(r.rep.Steps, s)
	fmt.Fprintf(r.o.Log, "%-6s %8s  %s\n", s.Status, s.Duration.Round(time.Millisecond), s.Detail)
	return err
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
	rep := &Report{Started: time.Now().UTC(), DryRun: o.DryRun, Rollback: o.Rollback, Forced: o.Force, Who: who()}
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
	o, inv := r.o, r.o.Inventory
	if o.Rollback {
		prev, err := LastSwitch(o.ReportDir)
		if err != nil {
			return err
		}
		o.To = prev.From
		r.o.To = prev.From
		fmt.Fprintf(o.Log, "rollback of the switch %s -> %s at %s\n", prev.From, prev.To, prev.Finished.Format(time.RFC3339))
	}
	if _, ok := inv.Regions[o.To]; !ok {
		return fmt.Errorf("target region %q is not in the deployment (%s)", o.To, strings.Join(inv.Names(), ", "))
	}
	r.rep.To = o.To

	var records []r53types.ResourceRecordSet
	if err := r.step("read routing", func() (string, error) {
		var err error
		records, err = r.records(ctx)
		if err != nil {
			return "", err
		}
		r.rep.From = servingRegion(records)
		cfgActive, cerr := ConfiguredActive(o.StackDir)
		d := fmt.Sprintf("%s takes the traffic (weights %s)", r.rep.From, weights(records))
		if cerr == nil && cfgActive != r.rep.From {
			d += fmt.Sprintf("; %s says %s", ProjectFile, cfgActive)
		}
		return d, nil
	}); err != nil {
		return err
	}
	if r.rep.From == o.To {
		r.rep.Outcome, r.rep.Reason = "refused", o.To+" already takes the traffic"
		return fmt.Errorf("%w: %s", ErrRefused, r.rep.Reason)
	}
	from, to := inv.Regions[r.rep.From], inv.Regions[o.To]

	if err := r.step("preflight "+o.To, func() (string, error) { return r.preflight(ctx, to) }); err != nil {
		r.rep.Outcome, r.rep.Reason = "refused", "preflight: "+err.Error()
		return fmt.Errorf("%w: %s", ErrRefused, r.rep.Reason)
	}

	var lag time.Duration
	probeErr := r.step("RPO probe "+from.Region+" -> "+o.To, func() (string, error) {
		var err error
		lag, err = r.probe(ctx, from, to)
		if err != nil {
			r.rep.RPOError = err.Error()
			return "", err
		}
		ms := lag.Milliseconds()
		r.rep.RPOMillis = &ms
		if lag > o.RPOBound {
			return "", fmt.Errorf("replication lag %s exceeds the bound %s", lag.Round(time.Millisecond), o.RPOBound)
		}
		return fmt.Sprintf("canary visible in %s after %s (bound %s)", o.To, lag.Round(time.Millisecond), o.RPOBound), nil
	})
	if probeErr != nil && !o.Force {
		r.rep.Outcome, r.rep.Reason = "refused", "RPO probe: "+probeErr.Error()+" (use --force to switch anyway)"
		return fmt.Errorf("%w: %s", ErrRefused, r.rep.Reason)
	}

	if o.DryRun {
		r.rep.Outcome = "dry-run"
		fmt.Fprintf(o.Log, "dry run: would set %s weight %d and the others %d, then set access911:activeRegion: %s in "+ProjectFile+"\n",
			o.To, contract.ActiveWeight, contract.StandbyWeight, o.To)
		return nil
	}

	switchStart := time.Now()
	if err := r.step("switch traffic to "+o.To, func() (string, error) { return r.switchTo(ctx, records, o.To) }); err != nil {
		return err
	}
	if err := r.step("verify "+o.To+" serves", func() (string, error) { return r.verify(ctx, to) }); err != nil {
		return err
	}
	r.rep.RTOMillis = time.Since(switchStart).Milliseconds()

	if err := r.step("set activeRegion in "+ProjectFile, func() (string, error) {
		changed, err := SetActive(o.StackDir, o.To)
		if len(changed) == 0 && err == nil {
			return ProjectFile + " already says " + o.To, nil
		}
		return strings.Join(changed, ", "), err
	}); err != nil {
		return err
	}
	r.rep.PulumiUp = pulumiUpOrder(o.To, r.rep.From, inv.Names())
	r.rep.Outcome = "switched"
	return nil
}

func (r *runner) records(ctx context.Context) ([]r53types.ResourceRecordSet, error) {
	inv := r.o.Inventory
	name := strings.TrimSuffix(inv.Hostname, ".") + "."
	out, err := r.o.Clients.Route53.ListResourceRecordSets(ctx, &route53.ListResourceRecordSetsInput{
		HostedZoneId: aws.String(inv.ZoneID), StartRecordName: aws.String(name), StartRecordType: r53types.RRTypeCname,
	})
	if err != nil {
		return nil, fmt.Errorf("list records of %s: %w", inv.Hostname, err)
	}
	var recs []r53types.ResourceRecordSet
	for _, rr := range out.ResourceRecordSets {
		if strings.TrimSuffix(aws.ToString(rr.Name), ".") == strings.TrimSuffix(inv.Hostname, ".") && rr.Type == r53types.RRTypeCname && rr.SetIdentifier != nil {
			recs = append(recs, rr)
		}
	}
	for _, reg := range inv.Names() {
		if !hasRecord(recs, reg) {
			return nil, fmt.Errorf("no weighted record %s for %s in zone %s", inv.Hostname, reg, inv.ZoneID)
		}
	}
	return recs, nil
}

func hasRecord(recs []r53types.ResourceRecordSet, region string) bool {
	for _, rr := range recs {
		if aws.ToString(rr.SetIdentifier) == region {
			return true
		}
	}
	return false
}

// servingRegion is the region whose record has the largest weight.
func servingRegion(recs []r53types.ResourceRecordSet) string {
	best, bestW := "", int64(-1)
	for _, rr := range recs {
		if w := aws.ToInt64(rr.Weight); w > bestW {
			best, bestW = aws.ToString(rr.SetIdentifier), w
		}
	}
	return best
}

func weights(recs []r53types.ResourceRecordSet) string {
	var parts []string
	for _, rr := range recs {
		parts = append(parts, fmt.Sprintf("%s=%d", aws.ToString(rr.SetIdentifier), aws.ToInt64(rr.Weight)))
	}
	sort.Strings(parts)
	return strings.Join(parts, " ")
}

// preflight checks the target can serve: API health, table, archive and
// Route53 health check. It changes nothing.
func (r *runner) preflight(ctx context.Context, to Region) (string, error) {
	var problems []string
	if err := r.apiHealthy(ctx, to); err != nil {
		problems = append(problems, err.Error())
	}
	if err := r.keyedRouteServes(ctx, to); err != nil {
		problems = append(problems, err.Error())
	}
	t, err := r.o.Clients.DynamoDB(to.Region).DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(to.TableName)})
	switch {
	case err != nil:
		problems = append(problems, fmt.Sprintf("table %s in %s: %v", to.TableName, to.Region, err))
	case t.Table.TableStatus != ddbtypes.TableStatusActive:
		problems = append(problems, fmt.Sprintf("table %s in %s is %s", to.TableName, to.Region, t.Table.TableStatus))
	}
	s3c := r.o.Clients.S3(to.Region)
	if _, err := s3c.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(to.ArchiveBucketName)}); err != nil {
		problems = append(problems, fmt.Sprintf("archive bucket %s: %v", to.ArchiveBucketName, err))
	} else if rep, err := s3c.GetBucketReplication(ctx, &s3.GetBucketReplicationInput{Bucket: aws.String(to.ArchiveBucketName)}); err != nil || rep.ReplicationConfiguration == nil || len(rep.ReplicationConfiguration.Rules) == 0 {
		problems = append(problems, fmt.Sprintf("archive bucket %s has no replication configured", to.ArchiveBucketName))
	}
	hs, err := r.o.Clients.Route53.GetHealthCheckStatus(ctx, &route53.GetHealthCheckStatusInput{HealthCheckId: aws.String(to.HealthCheckID)})
	if err != nil {
		problems = append(problems, fmt.Sprintf("health check %s: %v", to.HealthCheckID, err))
	} else {
		for _, obs := range hs.HealthCheckObservations {
			if st := aws.ToString(obs.StatusReport.Status); !strings.HasPrefix(st, "Success") {
				problems = append(problems, fmt.Sprintf("health check %s from %s: %s", to.HealthCheckID, obs.Region, st))
			}
		}
	}
	if len(problems) > 0 {
		return "", errors.New(strings.Join(problems, "; "))
	}
	return fmt.Sprintf("API healthy and takes our clients' key, table ACTIVE, bucket %s replicating, health check %s healthy", to.ArchiveBucketName, to.HealthCheckID), nil
}

func (r *runner) apiHealthy(ctx context.Context, reg Region) error {
	return APIHealthy(ctx, r.o.Clients.HTTP, reg.APIURL, reg.Region)
}

// APIHealthy asks a region's API for its health route (apiURL is the stack's
// apiUrl output, the stage included): it must answer 200 {"status":"ok"}
// and name region as the one serving it.
func APIHealthy(ctx context.Context, client *http.Client, apiURL, region string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(apiURL, "/")+contract.Health.Path, nil)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("API %s/health: %v", apiURL, err)
	}
	defer resp.Body.Close()
	var body struct {
		Status string `json:"status"`
		Region string `json:"region"`
	}
	_ = json.NewDecoder(io.LimitReader(resp.Body, 4096)).Decode(&body)
	if resp.StatusCode != http.StatusOK || body.Status != "ok" {
		return fmt.Errorf("API %s/health answered %d %q", apiURL, resp.StatusCode, body.Status)
	}
	if body.Region != region {
		return fmt.Errorf("API %s/health is served by %q, not %s", apiURL, body.Region, region)
	}
	return nil
}

// keyedRouteServes asks the target region for a page of calls with the key
// our own clients hold: after the switch they send it there, and a region
// whose API key has another value answers every keyed route 403.
func (r *runner) keyedRouteServes(ctx context.Context, reg Region) error {
	key := r.o.APIKey
	if key == "" {
		out, err := r.o.Clients.SecretsManager(reg.Region).GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{
			SecretId: aws.String(contract.APIKeySecretName)})
		if err != nil {
			return fmt.Errorf("our clients' API key: secret %s in %s: %v (or give the key with --api-key)", contract.APIKeySecretName, reg.Region, err)
		}
		key = aws.ToString(out.SecretString)
	}
	url := strings.TrimSuffix(reg.APIURL, "/") + contract.QueryCalls.Path + "?emergency_type=other&limit=1"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	req.Header.Set(contract.APIKeyHeader, key)
	resp, err := r.o.Clients.HTTP.Do(req)
	if err != nil {
		return fmt.Errorf("keyed route GET %s: %v", contract.QueryCalls.Path, err)
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusForbidden:
		return fmt.Errorf("keyed route GET %s in %s answered 403 to our clients' key: the region's API key has another value", contract.QueryCalls.Path, reg.Region)
	case resp.StatusCode != http.StatusOK:
		return fmt.Errorf("keyed route GET %s in %s answered %d", contract.QueryCalls.Path, reg.Region, resp.StatusCode)
	}
	return nil
}

// probe writes a canary call in from and waits until it is readable in to.
func (r *runner) probe(ctx context.Context, from, to Region) (time.Duration, error) {
	now := time.Now()
	id := fmt.Sprintf("drill-canary-%d", now.UnixNano())
	ts := strconv.FormatInt(now.Unix(), 10)
	key := map[string]ddbtypes.AttributeValue{
		contract.TableHashKey:  &ddbtypes.AttributeValueMemberS{Value: id},
		contract.TableRangeKey: &ddbtypes.AttributeValueMemberN{Value: ts},
	}
	item := map[string]ddbtypes.AttributeValue{
		contract.IndexHashKey: &ddbtypes.AttributeValueMemberS{Value: "other"},
		contract.TTLAttribute: &ddbtypes.AttributeValueMemberN{Value: strconv.FormatInt(now.Add(time.Hour).Unix(), 10)},
		"location":            &ddbtypes.AttributeValueMemberS{Value: "DR drill canary"},
	}
	for k, v := range key {
		item[k] = v
	}
	src := r.o.Clients.DynamoDB(from.Region)
	if _, err := src.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(from.TableName), Item: item}); err != nil {
		return 0, fmt.Errorf("write canary in %s: %w", from.Region, err)
	}
	written := time.Now()
	defer func() {
		_, _ = src.DeleteItem(context.Background(), &dynamodb.DeleteItemInput{TableName: aws.String(from.TableName), Key: key})
	}()
	dst := r.o.Clients.DynamoDB(to.Region)
	deadline := written.Add(2 * r.o.RPOBound)
	for {
		out, err := dst.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(to.TableName), Key: key, ConsistentRead: aws.Bool(true)})
		if err != nil {
			return 0, fmt.Errorf("read canary in %s: %w", to.Region, err)
		}
		if len(out.Item) > 0 {
			return time.Since(written), nil
		}
		if time.Now().After(deadline) {
			return time.Since(written), fmt.Errorf("canary not visible in %s after %s (bound %s)", to.Region, time.Since(written).Round(time.Millisecond), r.o.RPOBound)
		}
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// switchTo sets the target's weight to contract.ActiveWeight and every other region's
// to contract.StandbyWeight in one atomic change batch, keeping each record's value,
// TTL and health check.
func (r *runner) switchTo(ctx context.Context, recs []r53types.ResourceRecordSet, to string) (string, error) {
	var changes []r53types.Change
	for _, rr := range recs {
		rr := rr
		w := int64(contract.StandbyWeight)
		if aws.ToString(rr.SetIdentifier) == to {
			w = contract.ActiveWeight
		}
		rr.Weight = aws.Int64(w)
		changes = append(changes, r53types.Change{Action: r53types.ChangeActionUpsert, ResourceRecordSet: &rr})
	}
	out, err := r.o.Clients.Route53.ChangeResourceRecordSets(ctx, &route53.ChangeResourceRecordSetsInput{
		HostedZoneId: aws.String(r.o.Inventory.ZoneID),
		ChangeBatch:  &r53types.ChangeBatch{Comment: aws.String("access911 DR drill: switch to " + to), Changes: changes},
	})
	if err != nil {
		return "", fmt.Errorf("change records: %w", err)
	}
	id := aws.ToString(out.ChangeInfo.Id)
	deadline := time.Now().Add(r.o.VerifyWait)
	for out.ChangeInfo.Status != r53types.ChangeStatusInsync {
		if time.Now().After(deadline) {
			return "", fmt.Errorf("change %s still %s after %s", id, out.ChangeInfo.Status, r.o.VerifyWait)
		}
		time.Sleep(time.Second)
		gc, err := r.o.Clients.Route53.GetChange(ctx, &route53.GetChangeInput{Id: aws.String(id)})
		if err != nil {
			return "", fmt.Errorf("change %s: %w", id, err)
		}
		out.ChangeInfo = gc.ChangeInfo
	}
	return fmt.Sprintf("change %s INSYNC: %s=%d, others %d", id, to, contract.ActiveWeight, contract.StandbyWeight), nil
}

// verify asks Route53 what it answers for the shared name (TestDNSAnswer;
// where an emulator lacks it, the heaviest record read back), requires the
// target's regional domain, and asks the target's API who serves.
func (r *runner) verify(ctx context.Context, to Region) (string, error) {
	deadline := time.Now().Add(r.o.VerifyWait)
	for {
		value, how, err := r.answer(ctx)
		if err == nil {
			if strings.TrimSuffix(value, ".") != strings.TrimSuffix(to.RegionalDomainName, ".") {
				err = fmt.Errorf("%s answers %s, not %s's %s", r.o.Inventory.Hostname, value, to.Region, to.RegionalDomainName)
			} else if err = r.apiHealthy(ctx, to); err == nil {
				if !r.o.ThroughName {
					return fmt.Sprintf("%s -> %s (%s), and %s/health is served by %s", r.o.Inventory.Hostname, value, how, to.APIURL, to.Region), nil
				}
				through := to
				through.APIURL = "https://" + strings.TrimSuffix(r.o.Inventory.Hostname, ".")
				if err = r.apiHealthy(ctx, through); err == nil {
					return fmt.Sprintf("%s -> %s (%s), and https://%s/health is served by %s", r.o.Inventory.Hostname, value, how, r.o.Inventory.Hostname, to.Region), nil
				}
			}
		}
		if time.Now().After(deadline) {
			return "", err
		}
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func (r *runner) answer(ctx context.Context) (value, how string, err error) {
	inv := r.o.Inventory
	out, terr := r.o.Clients.Route53.TestDNSAnswer(ctx, &route53.TestDNSAnswerInput{
		HostedZoneId: aws.String(inv.ZoneID), RecordName: aws.String(inv.Hostname), RecordType: r53types.RRTypeCname})
	if terr == nil && len(out.RecordData) > 0 {
		return out.RecordData[0], "Route53 TestDNSAnswer", nil
	}
	recs, err := r.records(ctx)
	if err != nil {
		return "", "", err
	}
	answer := servingRegion(recs)
	for _, rr := range recs {
		if aws.ToString(rr.SetIdentifier) == answer && len(rr.ResourceRecords) > 0 {
			return aws.ToString(rr.ResourceRecords[0].Value), "heaviest record; TestDNSAnswer unavailable", nil
		}
	}
	return "", "", fmt.Errorf("no record value for %s", answer)
}

// pulumiUpOrder: the new active region first, so its stack's state records
// weight 100 before any other stack is touched; then the old active; then
// the rest.
func pulumiUpOrder(to, from string, regions []string) []string {
	order := []string{to, from}
	for _, r := range regions {
		if r != to && r != from {
			order = append(order, r)
		}
	}
	var cmds []string
	for _, s := range order {
		cmds = append(cmds, "pulumi stack select "+s+" && pulumi up")
	}
	return cmds
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
	name := fmt.Sprintf("drill-%s-%s-to-%s.json", rep.Started.Format("20060102T150405.000Z"), orNone(rep.From), rep.To)
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

// LastSwitch is the most recent report of a completed switch in dir.
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
	return nil, fmt.Errorf("no completed switch recorded in %s to roll back", dir)
}

// WriteTable prints the report for a person.
func (rep *Report) WriteTable(w io.Writer) {
	fmt.Fprintf(w, "\nDR drill %s -> %s: %s", orNone(rep.From), rep.To, strings.ToUpper(rep.Outcome))
	if rep.Reason != "" {
		fmt.Fprintf(w, " (%s)", rep.Reason)
	}
	fmt.Fprintf(w, "\n  by %s, %s .. %s\n", rep.Who, rep.Started.Format(time.RFC3339), rep.Finished.Format(time.RFC3339))
	for _, s := range rep.Steps {
		fmt.Fprintf(w, "  %-34s %-6s %9s  %s\n", s.Name, s.Status, s.Duration.Round(time.Millisecond), s.Detail)
	}
	switch {
	case rep.RPOMillis != nil:
		fmt.Fprintf(w, "  RPO (canary replication lag): %d ms\n", *rep.RPOMillis)
	case rep.RPOError != "":
		fmt.Fprintf(w, "  RPO (canary replication lag): not measured: %s\n", rep.RPOError)
	default:
		fmt.Fprintln(w, "  RPO (canary replication lag): not measured (the drill stopped before the probe)")
	}
	if rep.Outcome == "switched" {
		fmt.Fprintf(w, "  RTO (switch start -> %s verified serving): %d ms\n", rep.To, rep.RTOMillis)
		fmt.Fprintln(w, "  next, so that the next `pulumi up` keeps this state:")
		for _, c := range rep.PulumiUp {
			fmt.Fprintf(w, "    %s\n", c)
		}
	}
	if rep.Path != "" {
		fmt.Fprintf(w, "  report: %s\n", rep.Path)
	}
}
