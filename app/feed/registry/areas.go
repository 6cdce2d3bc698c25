package registry

import (
	"hash/fnv"
	"math"
	"regexp"

	"github.com/mmcloughlin/geohash"

	"github.com/access911/access911-infra/app/calls"
	"github.com/access911/access911-infra/contract"
)

// Areas partition the feed: a dispatcher serves a few geohash cells, a call
// belongs to one, and the swarm sends a call only to the partitions of its
// own area (and the batch's summary to the supervisors' partitions), not to
// every partition.

// AreaOf is the area a call belongs to: the geohash cell of its coordinates
// (contract.FeedAreaPrecision characters), or contract.FeedUnlocatedArea
// when it has none usable (the provider's needs_geocoding calls, which
// carry 0, 0).
func AreaOf(c calls.Call) string {
	lat, lon := c.Latitude, c.Longitude
	if c.NeedsGeocoding || (lat == 0 && lon == 0) || math.IsNaN(lat) || math.IsNaN(lon) ||
		lat < -90 || lat > 90 || lon < -180 || lon > 180 {
		return contract.FeedUnlocatedArea
	}
	return geohash.EncodeWithPrecision(lat, lon, contract.FeedAreaPrecision)
}

// areaPattern is a geohash cell of the feed's precision (geohash's base32
// alphabet: digits and letters but a, i, l, o).
var areaPattern = regexp.MustCompile(`^[0-9b-hjkmnp-z]{4}$`)

// ValidArea reports whether a subscription may name the area.
func ValidArea(area string) bool {
	return area == contract.FeedUnlocatedArea || areaPattern.MatchString(area)
}

// supervisorArea is the pseudo-area whose partitions hold every
// connection until it subscribes to areas (and supervisors for good).
const supervisorArea = "*"

// DefaultPartitionsPerArea: an area's dispatchers spread over 4 partitions
// (seed 002's 100 connections a partition: 400 dispatchers an area before a
// partition grows beyond the seed's query size).
const DefaultPartitionsPerArea = 4

// AreaPartitions are an area's partitions: perArea consecutive partitions
// (wrapping) from one picked by a hash of the area, so every function
// derives the same ones without a lookup. Areas may share partitions; the
// workers post each connection only what its own area and types want.
func AreaPartitions(area string, partitions, perArea int) []int {
	perArea = max(1, min(perArea, partitions))
	h := fnv.New32a()
	_, _ = h.Write([]byte(area))
	start := int(h.Sum32() % uint32(partitions))
	out := make([]int, perArea)
	for i := range out {
		out[i] = 1 + (start+i)%partitions
	}
	return out
}

// SupervisorPartitions are where connections live until they subscribe to
// areas, and supervisors stay: the swarm sends them each batch's summary.
func SupervisorPartitions(partitions, perArea int) []int {
	return AreaPartitions(supervisorArea, partitions, perArea)
}

// Layout is how partitions are laid out: how many there are, how many each
// area spreads over, and over how many queues they are spread.
type Layout struct {
	Partitions, PerArea, Queues int
	// LiveAfter: a call received before it (Unix seconds, as the call's
	// received_at) is backlog, for the supervisors only; 0 takes every call
	// as live.
	LiveAfter int64
}

// Live tells whether a call goes to its area's dispatchers.
func (l Layout) Live(c calls.Call) bool {
	return l.LiveAfter == 0 || c.ReceivedAt == 0 || c.ReceivedAt >= l.LiveAfter
}
