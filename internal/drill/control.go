package drill

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/access911/access911-infra/app/store"
	"github.com/access911/access911-infra/contract"
)

// controlView is what every region's API reports of the failover control
// (GET /control/{region}, the same answer Route 53's gate checks read) and
// which regions answer their own /health.
type controlView struct {
	// reports[reader][region] is allowed, for the readers that answered.
	reports map[string]map[string]bool
	// silent are the readers that did not answer, with why.
	silent  map[string]string
	healthy map[string]bool
}

// allowed: no reader that answers reports the region denied (the gate's
// rule: a reader that is down neither allows nor denies).
func (v controlView) allowed(region string) bool {
	for _, byRegion := range v.reports {
		if a, ok := byRegion[region]; ok && !a {
			return false
		}
	}
	return true
}

// serving is the region the shared hostname answers: the first of the
// order that is allowed and healthy.
func (v controlView) serving(order []string) string {
	for _, region := range order {
		if v.allowed(region) && v.healthy[region] {
			return region
		}
	}
	return ""
}

func (v controlView) describe(order []string) string {
	var parts []string
	for _, region := range order {
		state := "allowed"
		if !v.allowed(region) {
			state = "denied"
		}
		if !v.healthy[region] {
			state += ", /health failing"
		}
		parts = append(parts, region+" "+state)
	}
	s := "order " + strings.Join(parts, " > ")
	if serving := v.serving(order); serving != "" {
		s += "; " + serving + " takes the callers"
	}
	if len(v.silent) > 0 {
		s += "; not answering: " + strings.Join(sortedKeys(v.silent), ", ")
	}
	return s
}

// readControls asks every region's API, in parallel, for every region's
// control and for its own health.
func (r *runner) readControls(ctx context.Context) controlView {
	inv := r.o.Inventory
	v := controlView{reports: map[string]map[string]bool{}, silent: map[string]string{}, healthy: map[string]bool{}}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, reader := range inv.Names() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			reports, err := r.readerReports(ctx, inv.Regions[reader])
			healthy := APIHealthy(ctx, r.o.Clients.HTTP, inv.Regions[reader].APIURL, reader) == nil
			mu.Lock()
			defer mu.Unlock()
			v.healthy[reader] = healthy
			if err != nil {
				v.silent[reader] = err.Error()
				return
			}
			v.reports[reader] = reports
		}()
	}
	wg.Wait()
	return v
}

// readerReports is one reader's answer for every region.
func (r *runner) readerReports(ctx context.Context, reader Region) (map[string]bool, error) {
	out := map[string]bool{}
	for _, region := range r.o.Inventory.Names() {
		st, err := GetControl(ctx, r.o.Clients.HTTP, reader.APIURL, reader.Region, region)
		if err != nil {
			return nil, err
		}
		out[region] = st.Allowed
	}
	return out, nil
}

// GetControl asks the API at apiURL (a stack's apiUrl output) for region's
// control; the answer must come from reader's replica.
func GetControl(ctx context.Context, client *http.Client, apiURL, reader, region string) (contract.ControlState, error) {
	path := strings.Replace(contract.Control.Path, "{"+contract.ControlRegionParam+"}", region, 1)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(apiURL, "/")+path, nil)
	if err != nil {
		return contract.ControlState{}, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return contract.ControlState{}, fmt.Errorf("%s%s: %v", reader, path, err)
	}
	defer resp.Body.Close()
	var st contract.ControlState
	if resp.StatusCode != http.StatusOK {
		return st, fmt.Errorf("%s%s answered %d", reader, path, resp.StatusCode)
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 4096)).Decode(&st); err != nil {
		return st, fmt.Errorf("%s%s: %v", reader, path, err)
	}
	if st.ServedBy != reader || st.Region != region {
		return st, fmt.Errorf("%s%s answered for %q from %q", reader, path, st.Region, st.ServedBy)
	}
	return st, nil
}

// setControls writes the changes into to's table replica: a data-plane
// PutItem in the region being switched to, which the global table carries
// to the others.
func (r *runner) setControls(ctx context.Context, to Region, changes []Change) (time.Time, error) {
	s := &store.Store{DB: r.o.Clients.DynamoDB(to.Region), Table: to.TableName}
	reason := "access911 drill"
	switch {
	case r.o.Rollback:
		reason += " --rollback"
	case r.o.Evacuate != "":
		reason += " --evacuate " + r.o.Evacuate
	default:
		reason += " --to " + r.o.To
	}
	for _, c := range changes {
		st := contract.ControlState{Region: c.Region, Allowed: c.After, ChangedAt: time.Now().Unix(), By: r.rep.Who, Reason: reason}
		if err := s.SetControl(ctx, st); err != nil {
			return time.Time{}, err
		}
	}
	return time.Now(), nil
}

// verifyReaders waits until what the gates need is reported: each region
// turned off denied by at least one reader that answers (one denial makes
// its gate unhealthy), and each region turned on allowed by every reader
// that answers.
func (r *runner) verifyReaders(ctx context.Context, changes []Change) (string, error) {
	start := time.Now()
	for {
		v := r.readControls(ctx)
		missing := unreported(v, changes)
		if len(v.reports) > 0 && len(missing) == 0 {
			s := fmt.Sprintf("%s answer, the gates have it after %s", strings.Join(sortedKeys(v.reports), ", "), time.Since(start).Round(time.Millisecond))
			if len(v.silent) > 0 {
				s += "; not answering: " + strings.Join(sortedKeys(v.silent), ", ")
			}
			return s, nil
		}
		if time.Since(start) > r.o.VerifyWait {
			if len(v.reports) == 0 {
				return "", errors.New("no region's API answered GET /control")
			}
			return "", fmt.Errorf("after %s: %s", r.o.VerifyWait, strings.Join(missing, "; "))
		}
		if err := sleep(ctx, 250*time.Millisecond); err != nil {
			return "", err
		}
	}
}

func unreported(v controlView, changes []Change) []string {
	var missing []string
	for _, c := range changes {
		var agree, disagree []string
		for reader, byRegion := range v.reports {
			if byRegion[c.Region] == c.After {
				agree = append(agree, reader)
			} else {
				disagree = append(disagree, reader)
			}
		}
		sort.Strings(disagree)
		switch {
		case !c.After && len(agree) == 0:
			missing = append(missing, "no reader reports "+c.Region+" denied yet")
		case c.After && len(disagree) > 0:
			missing = append(missing, strings.Join(disagree, ", ")+" still report "+c.Region+" denied")
		}
	}
	return missing
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func sleep(ctx context.Context, d time.Duration) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}
