package readcache

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/access911/access911-infra/app/store"
)

func TestKeys(t *testing.T) {
	assert.Equal(t, "call:sim-1", CallKey("sim-1"), "seed 000's key")
	fire := store.Query{EmergencyType: "fire", Limit: 25}
	assert.Equal(t, QueryKey(fire), QueryKey(store.Query{EmergencyType: "fire", Limit: 25}), "the same query, the same page")
	for _, other := range []store.Query{
		{EmergencyType: "flood", Limit: 25},
		{EmergencyType: "fire", Limit: 10},
		{EmergencyType: "fire", Limit: 25, Since: 1},
		{EmergencyType: "fire", Limit: 25, Cursor: "next"},
	} {
		assert.NotEqual(t, QueryKey(fire), QueryKey(other), "%+v is another page", other)
	}
}
