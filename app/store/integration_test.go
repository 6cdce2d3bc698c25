//go:build integration

package store

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/access911/access911-infra/app/calls"
	"github.com/access911/access911-infra/contract"
	"github.com/access911/access911-infra/internal/emulator"
)

// ddbLocal is the DynamoDB Local every test in this binary shares.
var ddbLocal = emulator.DynamoDBLocalForTests()

func TestMain(m *testing.M) { ddbLocal.Main(m) }

var tableSeq atomic.Int64

// newTable creates a fresh calls table (same definition as the component)
// and returns a store on it.
func newTable(t testing.TB, extra ...func(*dynamodb.Options)) (*Store, *dynamodb.Client) {
	t.Helper()
	ddb := ddbLocal.Require(t)
	db := NewLocalClient(ddb.URL, extra...)
	name := fmt.Sprintf("calls-%d-%d", time.Now().UnixNano(), tableSeq.Add(1))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	require.NoError(t, EnsureTable(ctx, db, name))
	return &Store{DB: db, Table: name}, db
}

func call(id string, ts int64, typ string) calls.Call {
	return calls.Call{ConversationID: id, Timestamp: ts, Location: "Main St", Latitude: 36.1, Longitude: -86.7,
		EmergencyType: typ, Severity: 3, CallDurationSecs: 60, Status: "received", Region: "us-east-1"}
}

func TestTableMatchesTheComponentSchema(t *testing.T) {
	s, db := newTable(t)
	out, err := db.DescribeTable(context.Background(), &dynamodb.DescribeTableInput{TableName: &s.Table})
	require.NoError(t, err)
	tbl := out.Table
	assert.Equal(t, contract.TableHashKey, *tbl.KeySchema[0].AttributeName)
	assert.Equal(t, contract.TableRangeKey, *tbl.KeySchema[1].AttributeName)
	require.Len(t, tbl.GlobalSecondaryIndexes, 1)
	assert.Equal(t, contract.EmergencyTypeIndex, *tbl.GlobalSecondaryIndexes[0].IndexName)
	assert.True(t, *tbl.StreamSpecification.StreamEnabled)
	require.NoError(t, s.Health(context.Background()))
}

func TestPutIsIdempotent(t *testing.T) {
	s, db := newTable(t)
	ctx := context.Background()
	c := call("conv-1", 1700000000, "fire")
	stored, created, err := s.Put(ctx, c)
	require.NoError(t, err)
	assert.True(t, created)
	assert.Equal(t, c, stored)

	again := c
	again.Location = "a retried delivery with a changed field"
	stored2, created2, err := s.Put(ctx, again)
	require.NoError(t, err)
	assert.False(t, created2, "a repeated delivery stores nothing")
	assert.Equal(t, c, stored2, "and answers with the stored call")
	assert.Equal(t, 1, emulator.CountItems(t, db, s.Table))

	got, err := s.Get(ctx, "conv-1")
	require.NoError(t, err)
	assert.Equal(t, c, got)
	_, err = s.Get(ctx, "conv-2")
	assert.ErrorIs(t, err, ErrNotFound)
}

func TestQueryPagesThroughTheIndex(t *testing.T) {
	s, _ := newTable(t)
	ctx := context.Background()
	var batch []calls.Call
	for i := 0; i < 57; i++ {
		batch = append(batch, call(fmt.Sprintf("t-%02d", i), int64(1700000000+i), "tornado"))
	}
	for i := 0; i < 10; i++ {
		batch = append(batch, call(fmt.Sprintf("f-%02d", i), int64(1700000000+i), "fire"))
	}
	_, err := s.BatchPut(ctx, batch)
	require.NoError(t, err)

	var got []calls.Call
	cursor, pages := "", 0
	for {
		page, err := s.QueryByType(ctx, Query{EmergencyType: "tornado", Limit: 10, Cursor: cursor})
		require.NoError(t, err)
		pages++
		got = append(got, page.Calls...)
		if page.NextCursor == "" {
			break
		}
		cursor = page.NextCursor
		require.Less(t, pages, 20, "paging terminates")
	}
	require.Len(t, got, 57)
	assert.GreaterOrEqual(t, pages, 6)
	seen := map[string]bool{}
	for i, c := range got {
		assert.Equal(t, "tornado", c.EmergencyType)
		assert.False(t, seen[c.ConversationID], "no call twice across pages")
		seen[c.ConversationID] = true
		if i > 0 {
			assert.LessOrEqual(t, c.Timestamp, got[i-1].Timestamp, "newest first")
		}
	}

	page, err := s.QueryByType(ctx, Query{EmergencyType: "tornado", Since: 1700000050, Until: 1700000052, Limit: 100})
	require.NoError(t, err)
	assert.Len(t, page.Calls, 3, "since/until are inclusive")

	_, err = s.QueryByType(ctx, Query{EmergencyType: "tornado", Limit: 10, Cursor: "not-a-cursor!"})
	assert.ErrorIs(t, err, ErrBadCursor)

	// A cursor that decodes but that this query could not have issued is
	// refused before DynamoDB sees it (which would answer a 500-making
	// ValidationException).
	first, err := s.QueryByType(ctx, Query{EmergencyType: "tornado", Limit: 10})
	require.NoError(t, err)
	tamper := func(edit func(*cursorKey)) string {
		raw, err := base64.RawURLEncoding.DecodeString(first.NextCursor)
		require.NoError(t, err)
		var k cursorKey
		require.NoError(t, json.Unmarshal(raw, &k))
		edit(&k)
		b, _ := json.Marshal(k)
		return base64.RawURLEncoding.EncodeToString(b)
	}
	for name, tc := range map[string]struct {
		q      Query
		cursor string
	}{
		"another type's cursor":  {Query{EmergencyType: "fire", Limit: 10}, first.NextCursor},
		"id edited":              {Query{EmergencyType: "tornado", Limit: 10}, tamper(func(k *cursorKey) { k.ID = "not an id!" })},
		"time outside the range": {Query{EmergencyType: "tornado", Since: 1700000050, Limit: 10}, tamper(func(k *cursorKey) { k.TS = 1 })},
		"type edited":            {Query{EmergencyType: "tornado", Limit: 10}, tamper(func(k *cursorKey) { k.Type = "fire" })},
	} {
		tc.q.Cursor = tc.cursor
		_, err := s.QueryByType(ctx, tc.q)
		assert.ErrorIs(t, err, ErrBadCursor, name)
	}
}

func TestBatchWriteItemLimitIs25(t *testing.T) {
	s, db := newTable(t)
	var reqs []types.WriteRequest
	for i := 0; i < BatchSize+1; i++ {
		reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: map[string]types.AttributeValue{
			contract.TableHashKey:  &types.AttributeValueMemberS{Value: "x" + strconv.Itoa(i)},
			contract.TableRangeKey: &types.AttributeValueMemberN{Value: "1"},
		}}})
	}
	_, err := db.BatchWriteItem(context.Background(), &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{s.Table: reqs}})
	require.Error(t, err, "DynamoDB refuses 26 items in one batch")

	cs := make([]calls.Call, 1000)
	for i := range cs {
		cs[i] = call(fmt.Sprintf("b-%04d", i), 1700000000, "flood")
	}
	res, err := s.BatchPut(context.Background(), cs)
	require.NoError(t, err)
	assert.Equal(t, 40, res.Batches, "1000 calls in chunks of 25")
	assert.Equal(t, 1000, res.Written)
	assert.Equal(t, 1000, emulator.CountItems(t, db, s.Table))
}

func TestBatchPutUnderThrottlingLosesNoCall(t *testing.T) {
	th := emulator.NewThrottle(0.3, 0.5, 1)
	s, db := newTable(t, th.Apply)
	cs, err := calls.Generate("nashville_tornado", 1000, 42, time.Unix(1700000000, 0))
	require.NoError(t, err)
	res, err := s.BatchPut(context.Background(), cs)
	require.NoError(t, err)
	assert.Equal(t, 1000, res.Written)
	assert.Zero(t, res.Failed)
	assert.Positive(t, res.Retried, "unprocessed items were re-sent")
	assert.Positive(t, th.Failed.Load(), "throttling errors were injected")
	assert.Positive(t, th.Partial.Load(), "partial batches were injected")
	t.Logf("injected %d throttling errors and %d partial batches; %d item re-sends; %s",
		th.Failed.Load(), th.Partial.Load(), res.Retried, res.Duration)

	clean := &Store{DB: NewLocalClient(ddbLocal.Require(t).URL), Table: s.Table}
	assert.Equal(t, 1000, emulator.CountItems(t, db, s.Table), "every call stored exactly once")
	for _, c := range cs[:50] {
		got, err := clean.Get(context.Background(), c.ConversationID)
		require.NoError(t, err)
		assert.Equal(t, c, got)
	}
}

func TestBatchPutReportsWhatItCouldNotWrite(t *testing.T) {
	th := emulator.NewThrottle(1, 0, 3)
	s, _ := newTable(t, th.Apply)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	cs := make([]calls.Call, 60)
	for i := range cs {
		cs[i] = call(fmt.Sprintf("x-%02d", i), 1700000000, "fire")
	}
	res, err := s.BatchPut(ctx, cs)
	require.Error(t, err)
	assert.Equal(t, 60, res.Failed)
	assert.Zero(t, res.Written)
	var api smithy.APIError
	if !errors.As(err, &api) {
		assert.ErrorIs(t, err, context.DeadlineExceeded)
	}
}

func TestControlIsAllowedUntilAnItemSaysOtherwise(t *testing.T) {
	s, _ := newTable(t)
	ctx := context.Background()
	st, err := s.Control(ctx, "us-east-1")
	require.NoError(t, err)
	assert.Equal(t, contract.ControlState{Region: "us-east-1", Allowed: true}, st, "no item: allowed")

	denied := contract.ControlState{Region: "us-east-1", Allowed: false, ChangedAt: 1764900000, By: "ops@laptop", Reason: "drill"}
	require.NoError(t, s.SetControl(ctx, denied))
	st, err = s.Control(ctx, "us-east-1")
	require.NoError(t, err)
	assert.Equal(t, denied, st)
	other, err := s.Control(ctx, "us-west-2")
	require.NoError(t, err)
	assert.True(t, other.Allowed, "one region's item says nothing of another")

	page, err := s.QueryByType(ctx, Query{EmergencyType: "other", Limit: 10})
	require.NoError(t, err)
	assert.Empty(t, page.Calls, "a control item has no emergency_type, so it is never in the index GET /calls reads")
}
