//go:build integration

package drill_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/access911/access911-infra/internal/drill"
	"github.com/access911/access911-infra/internal/emulator"
)

// us-east-1 is unreachable: its API stops answering, replication to and
// from it stops, and every AWS request signed for it is dropped by the
// outage proxy in front of moto, through which the drill makes its calls.
// Route 53's data plane has already sent callers to us-west-2 (us-east-1's
// /health fails); the drill evacuates us-east-1 anyway, so it takes no
// callers when it comes back before it has caught up. It does so with the
// other regions only: a control write into us-west-2, read back by
// us-west-2's and eu-west-1's APIs, a canary call stored in us-west-2.
func TestDrillEvacuatesDuringAHomeRegionOutage(t *testing.T) {
	d := newDeployment(t, 100*time.Millisecond)
	outage, err := emulator.StartRegionOutage(d.moto.URL, "us-east-1")
	require.NoError(t, err)
	t.Cleanup(outage.Stop)
	d.clients, err = drill.NewClients(context.Background(), outage.URL)
	require.NoError(t, err)
	d.servers["us-east-1"].Close()
	d.repl.setDown("us-east-1")
	client := &http.Client{Timeout: 2 * time.Second}
	require.Equal(t, "us-west-2", d.answer(client), "the chain already answers the next region: us-east-1's /health fails")

	rep, err := d.run(drill.Options{Evacuate: "us-east-1"})
	require.ErrorIs(t, err, drill.ErrRefused, "without --force: the RPO cannot be known")
	assert.Contains(t, rep.Reason, "us-east-1 does not answer")
	assert.Contains(t, rep.Reason, "--force")

	rep, err = d.run(drill.Options{Evacuate: "us-east-1", Force: true})
	require.NoError(t, err)
	assert.Equal(t, "switched", rep.Outcome)
	assert.Equal(t, "us-west-2", rep.From, "us-west-2 already took the callers")
	assert.Equal(t, "us-west-2", rep.To)
	assert.Equal(t, "us-west-2", rep.Writer)
	assert.Equal(t, []drill.Change{{Region: "us-east-1", Before: true, After: false}}, rep.Changes)
	assert.Nil(t, rep.RPOMillis)
	assert.Positive(t, rep.RTOMillis)
	for _, s := range rep.Steps {
		if s.Name == "readers report it" {
			assert.Contains(t, s.Detail, "eu-west-1, us-west-2 answer")
			assert.Contains(t, s.Detail, "not answering: us-east-1")
		}
	}
	assert.Zero(t, outage.Passed("us-east-1"), "nothing reached us-east-1")
	assert.Positive(t, outage.Passed("us-west-2"), "the control write, the preflight and the canary read went to us-west-2")
	for _, r := range []string{"us-west-2", "eu-west-1"} {
		assert.Eventually(t, func() bool {
			st, err := d.servers[r].Store.Control(context.Background(), "us-east-1")
			return err == nil && !st.Allowed
		}, 5*time.Second, 50*time.Millisecond, "%s's replica holds the denial", r)
	}
	assert.Equal(t, "us-west-2", d.answer(client))
	t.Logf("during the outage: RTO %d ms; AWS requests signed for us-east-1 dropped: %d, for us-west-2 passed: %d",
		rep.RTOMillis, outage.Denied("us-east-1"), outage.Passed("us-west-2"))
}
