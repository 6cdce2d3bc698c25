package feed

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/access911/access911-infra/app/calls"
)

func TestFanoutSpreadsPartitionsOverQueues(t *testing.T) {
	c := calls.Call{ConversationID: "c1", EmergencyType: "fire"}
	out := Fanout(c, 2500, DefaultQueues)
	require.Len(t, out, 10)
	seen := map[int]bool{}
	for q, msgs := range out {
		assert.Len(t, msgs, 250, "queue %d carries an equal share of seed 002's 2500 partitions", q)
		for _, m := range msgs {
			assert.False(t, seen[m.Partition], "partition %d once", m.Partition)
			seen[m.Partition] = true
			assert.Equal(t, q, (m.Partition-1)%10)
			assert.Equal(t, c, m.Call)
		}
	}
	assert.Len(t, seen, 2500)
	assert.Len(t, Fanout(c, 3, 10)[9], 0, "more queues than partitions: some stay empty")
}

// fakes of our own interfaces (the real ones are DynamoDB and API Gateway).
type partitionMembers map[int][]Connection

func (m partitionMembers) Members(_ context.Context, p int) ([]Connection, error) { return m[p], nil }

type poster struct {
	mu   sync.Mutex
	got  map[string]int
	gone map[string]bool
	fail map[string]bool
}

func (p *poster) Post(_ context.Context, id string, _ []byte) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch {
	case p.gone[id]:
		return ErrGone
	case p.fail[id]:
		return errors.New("throttled")
	}
	p.got[id]++
	return nil
}

type forgetter struct {
	mu   sync.Mutex
	gone []string
}

func (f *forgetter) Disconnect(_ context.Context, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.gone = append(f.gone, id)
	return nil
}

func TestDeliverByTypeForgetsTheGone(t *testing.T) {
	m := partitionMembers{7: {
		{ID: "all"}, {ID: "fire-only", EmergencyTypes: []string{"fire"}}, {ID: "flood-only", EmergencyTypes: []string{"flood"}},
		{ID: "vanished"}, {ID: "flaky"},
	}}
	p := &poster{got: map[string]int{}, gone: map[string]bool{"vanished": true}, fail: map[string]bool{"flaky": true}}
	f := &forgetter{}
	d, err := Deliver(context.Background(), m, p, f, PartitionMessage{Partition: 7, Call: calls.Call{ConversationID: "c1", EmergencyType: "fire"}}, 4)
	require.NoError(t, err)
	assert.Equal(t, map[string]int{"all": 1, "fire-only": 1}, p.got, "each subscribed client once, no other type")
	assert.Equal(t, 2, d.Sent)
	assert.Equal(t, 1, d.Filtered)
	assert.Equal(t, 1, d.Gone)
	assert.Equal(t, []string{"vanished"}, f.gone, "a 410 deletes the connection (and its count)")
	assert.Equal(t, []string{"flaky"}, d.Failed)
}
