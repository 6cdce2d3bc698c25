// Package calls is the emergency-call domain shared by the Lambda handler, the
// local server and the infrastructure code. It never imports Pulumi.
package contract

// The calls table's key schema. The table component, the handler's store and
// the local DynamoDB setup all read these names from here, so there is one
// definition of the schema.
const (
	// TableHashKey is the partition key: one item per conversation.
	TableHashKey = "conversation_id"
	// TableRangeKey is the sort key: the call's Unix time in seconds.
	TableRangeKey = "timestamp"
	// EmergencyTypeIndex is the GSI named by seed 000 ("emergency-type-index").
	EmergencyTypeIndex = "emergency-type-index"
	// IndexHashKey is the GSI partition key (seed 000: emergency_type HASH).
	IndexHashKey = "emergency_type"
	// IndexRangeKey is the GSI sort key (seed 000: timestamp RANGE).
	IndexRangeKey = "timestamp"
	// TTLAttribute holds the Unix time after which DynamoDB may expire the item.
	TTLAttribute = "expires_at"
	// CallRetentionDays is how long a call stays in the table before TTL
	// expiry (the handler stamps it; the cost model prices what it keeps);
	// the S3 archive keeps the raw payload for longer.
	CallRetentionDays = 400
)

// KeyAttribute is one attribute that takes part in a key of the table or index.
type KeyAttribute struct {
	Name string
	// Type is the DynamoDB scalar type: "S", "N" or "B".
	Type string
}

// KeyAttributes lists every attribute used by the table key or the GSI, each
// once, in a stable order.
func KeyAttributes() []KeyAttribute {
	return []KeyAttribute{
		{Name: TableHashKey, Type: "S"},
		{Name: TableRangeKey, Type: "N"},
		{Name: IndexHashKey, Type: "S"},
	}
}
