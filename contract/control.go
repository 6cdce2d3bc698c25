package contract

import (
	"regexp"
	"strings"
)

// The failover control: whether a region may take callers. It is an item
// per region in the calls table, a global table, so an operator flips it
// with one data-plane write (PutItem) in any region that answers, and every
// region's API reports it (GET /control/{region}) to the Route 53 health
// checks that gate that region's failover record. No control-plane call, and
// no request to the region being left (docs/drill.md).
//
// A region is allowed unless an item says otherwise: a region no item names
// takes traffic, so a new deployment serves without a write. Each region's
// gate is its own /health AND no API that answers reports it denied, so a
// reader that is down (the region being left) neither allows nor denies.
const (
	// ControlIDPrefix starts a control item's hash key; calls' ids match
	// ^[A-Za-z0-9_.:-]+$, so it never names a call.
	ControlIDPrefix = "#control#"
	// ControlRangeKey is every control item's sort key value.
	ControlRangeKey = 0
	// ControlDeniedMarker is what GET /control/{region} answers, and the
	// Route 53 string-matching checks look for, when a region is denied.
	ControlDeniedMarker = `"allowed":false`
	// ControlRegionParam is the path parameter naming the region.
	ControlRegionParam = "region"
)

// Attribute names of a control item, beside the table's keys.
const (
	ControlAllowedAttr   = "allowed"
	ControlChangedAtAttr = "changed_at"
	ControlByAttr        = "changed_by"
	ControlReasonAttr    = "reason"
)

// Control answers whether a region may take callers; public, because Route
// 53's health checkers send no key, and it tells no more than that.
var Control = Route{Method: "GET", Path: "/control/{" + ControlRegionParam + "}", Public: true}

// ControlState is one region's control item, and the body of
// GET /control/{region}. Region and Allowed come first, so the JSON reads
// {"region":"...","allowed":false,...}: the checks match ControlDeniedMarker.
type ControlState struct {
	Region  string `json:"region"`
	Allowed bool   `json:"allowed"`
	// ChangedAt is the Unix time, seconds, of the last change; 0 when no
	// item was ever written (allowed by default).
	ChangedAt int64  `json:"changed_at,omitempty"`
	By        string `json:"changed_by,omitempty"`
	Reason    string `json:"reason,omitempty"`
	// ServedBy is the region whose API (and table replica) answered.
	ServedBy string `json:"served_by,omitempty"`
}

// ControlID is the hash key of region's control item.
func ControlID(region string) string { return ControlIDPrefix + region }

// IsControlID says whether a table item's hash key is a control item's: the
// stream's readers (the feed, the read cache) skip those.
func IsControlID(id string) bool { return strings.HasPrefix(id, ControlIDPrefix) }

// regionPattern is an AWS region name such as us-east-1 or ap-southeast-2.
var regionPattern = regexp.MustCompile(`^[a-z]{2}(-gov)?-[a-z]+-[0-9]$`)

// ValidRegion says whether s is shaped like an AWS region name.
func ValidRegion(s string) bool { return regionPattern.MatchString(s) }

// CanaryIDPrefix starts the conversation id of the drill's canary calls:
// stored like any call, but never broadcast to dispatchers.
const CanaryIDPrefix = "drill-canary-"

// IsCanaryID says whether a call is a drill's canary.
func IsCanaryID(id string) bool { return strings.HasPrefix(id, CanaryIDPrefix) }
