package prices

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/pricing"
	"github.com/aws/aws-sdk-go-v2/service/pricing/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/access911/access911-infra/capacity"
)

// replay is a STAND-IN for the Price List Query API's HTTP endpoint: it
// answers the SDK's real GetProducts requests (AWS JSON 1.1) from the
// recordings in testdata, applying the request's filters as the API
// documents them (TERM_MATCH: the attribute equals the value; CONTAINS: it
// contains it) and paging by one with NextToken. Everything above the
// transport (client, serialization, filters, paging, parsing) is real.
type replay struct {
	mu       sync.Mutex
	requests []getProductsRequest
}

type getProductsRequest struct {
	ServiceCode string
	Filters     []struct{ Field, Type, Value string }
	NextToken   string
	MaxResults  int
}

type recording struct {
	Products []string `json:"products"`
}

func (r *replay) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Header.Get("X-Amz-Target") != "AWSPriceListService.GetProducts" {
		return nil, fmt.Errorf("unexpected operation %q", req.Header.Get("X-Amz-Target"))
	}
	var in getProductsRequest
	if err := json.NewDecoder(req.Body).Decode(&in); err != nil {
		return nil, err
	}
	r.mu.Lock()
	r.requests = append(r.requests, in)
	r.mu.Unlock()
	var rec recording
	b, err := os.ReadFile(filepath.Join("testdata", "constructed-pricelist-"+in.ServiceCode+".json"))
	if err == nil {
		err = json.Unmarshal(b, &rec)
	}
	if err != nil {
		return answer(400, `{"__type":"InvalidParameterException","message":"no such service code"}`), nil
	}
	var matched []string
	for _, doc := range rec.Products {
		p, err := ParseProduct(doc)
		if err != nil {
			return nil, err
		}
		if matches(p, in) {
			matched = append(matched, doc)
		}
	}
	start, _ := strconv.Atoi(in.NextToken)
	end := min(start+1, len(matched))
	out := map[string]any{"FormatVersion": "aws_v1", "PriceList": matched[start:end]}
	if end < len(matched) {
		out["NextToken"] = strconv.Itoa(end)
	}
	body, _ := json.Marshal(out)
	return answer(200, string(body)), nil
}

func matches(p Product, in getProductsRequest) bool {
	for _, f := range in.Filters {
		v := p.Product.Attributes[f.Field]
		if f.Field == "productFamily" {
			v = p.Product.ProductFamily
		}
		switch f.Type {
		case "TERM_MATCH":
			if v != f.Value {
				return false
			}
		case "CONTAINS":
			if !strings.Contains(v, f.Value) {
				return false
			}
		}
	}
	return true
}

func answer(status int, body string) *http.Response {
	return &http.Response{StatusCode: status, Header: http.Header{"Content-Type": {"application/x-amz-json-1.1"}},
		Body: io.NopCloser(strings.NewReader(body))}
}

func client(rt http.RoundTripper) *pricing.Client {
	return pricing.New(pricing.Options{Region: "us-east-1", HTTPClient: &http.Client{Transport: rt},
		Credentials: credentials.NewStaticCredentialsProvider("AKID", "SECRET", ""), RetryMaxAttempts: 1})
}

// Every mapped item in eu-west-1 and eu-central-1, through the real client:
// the prices issue 30 quotes from the offer files, each with its SKU, offer
// version and publication date as its source, and the changes listed.
func TestRefreshFindsEveryMappedItem(t *testing.T) {
	table, err := capacity.LoadPrices()
	require.NoError(t, err)
	stale := func(region, item string, usd float64) { // the table as it was before issue 30's corrections
		p := table.Regions[region][item]
		p.USD = usd
		table.Regions[region][item] = p
	}
	stale("eu-west-1", capacity.PriceDynamoWRU, 0.7068)
	stale("eu-central-1", capacity.PriceLogsStored, 0.03)
	rt := &replay{}
	out, changes, err := Refresh(context.Background(), client(rt), table, []string{"eu-west-1", "eu-central-1"}, "2026-12-05")
	require.NoError(t, err)
	want := map[string]map[string]float64{
		"eu-west-1": {capacity.PriceDynamoWRU: 0.705, capacity.PriceDynamoRWRU: 0.705, capacity.PriceDynamoRRU: 0.1415,
			capacity.PriceDynamoPITR: 0.22, capacity.PriceDynamoStorage: 0.283, capacity.PriceLambdaRequests: 0.2,
			capacity.PriceLambdaGBSeconds: 0.0000133334, capacity.PriceRESTRequests: 3.5, capacity.PriceWSMessages: 1.14,
			capacity.PriceWSConnMinutes: 0.285, capacity.PriceS3Storage: 0.023, capacity.PriceS3Puts: 0.005,
			capacity.PriceSQSRequests: 0.4, capacity.PriceKMSKey: 1, capacity.PriceKMSRequests: 0.03, capacity.PriceSecret: 0.4,
			capacity.PriceAlarmMetric: 0.1, capacity.PriceDashboard: 3, capacity.PriceCustomMetric: 0.3,
			capacity.PriceLogsIngested: 0.57, capacity.PriceLogsStored: 0.03},
		"eu-central-1": {capacity.PriceDynamoPITR: 0.2448, capacity.PriceLogsStored: 0.0324, capacity.PriceDynamoWRU: 0.7625,
			capacity.PriceSQSRequests: 0.4, capacity.PriceKMSRequests: 0.03},
	}
	for region, items := range want {
		for item, usd := range items {
			p := out.Regions[region][item]
			assert.Equal(t, usd, p.USD, "%s %s", region, item)
			assert.Regexp(t, `^AWS Price List API: \S+ SKU [0-9A-Z]{16} \(\S+, \S+\), OnDemand JRTCKXETXF, offer version 20261001190412, published 2026-10-01T19:04:12Z$`,
				p.Source, "%s %s", region, item)
			assert.Equal(t, table.Regions[region][item].Unit, p.Unit, "the table's unit text is kept")
		}
	}
	assert.Len(t, out.Regions["eu-west-1"], len(table.Regions["eu-west-1"]), "no item dropped")
	assert.Equal(t, table.Regions["eu-west-1"][capacity.PriceRoute53Queries], out.Regions["eu-west-1"][capacity.PriceRoute53Queries],
		"an unmapped item keeps its value and source")
	assert.Equal(t, table.Regions["us-east-1"], out.Regions["us-east-1"], "a region not asked for is kept")
	assert.Equal(t, "2026-12-05", out.Date)
	assert.Contains(t, out.Provenance, "Price List Query API")
	assert.Contains(t, out.Provenance, capacity.PriceRoute53Queries, "the provenance names what was not refreshed")

	var b bytes.Buffer
	WriteChanges(&b, changes)
	assert.Contains(t, b.String(), "eu-west-1     dynamodb.write_request_units               0.7068 -> 0.705")
	assert.Contains(t, b.String(), "eu-central-1  cloudwatch.logs_stored                     0.03 -> 0.0324")

	rt.mu.Lock()
	defer rt.mu.Unlock()
	require.NotEmpty(t, rt.requests)
	first := rt.requests[0]
	assert.Equal(t, "AmazonDynamoDB", first.ServiceCode)
	assert.Equal(t, 100, first.MaxResults)
	assert.Contains(t, fmt.Sprint(first.Filters), "{regionCode TERM_MATCH eu-west-1}")
	assert.Contains(t, fmt.Sprint(first.Filters), "{usagetype CONTAINS WriteRequestUnits}")
	paged := 0
	for _, r := range rt.requests {
		if r.NextToken != "" {
			paged++
		}
	}
	assert.Positive(t, paged, "results past the first page were asked for with NextToken")
}

// A filter that finds nothing, or two products, fails naming the item and
// the filter, and the table is returned unchanged: never a $0.
func TestRefreshFailsRatherThanGuess(t *testing.T) {
	table, err := capacity.LoadPrices()
	require.NoError(t, err)
	cases := []struct {
		name  string
		items []Item
		want  []string
	}{
		{"no product", []Item{{Name: capacity.PriceDynamoWRU, ServiceCode: "AmazonDynamoDB", UsageType: "WriteRequestUnits",
			Attributes: map[string]string{"group": "DDB-NoSuchGroup"}}},
			[]string{"dynamodb.write_request_units in eu-west-1: 0 products match usage type WriteRequestUnits", "group=DDB-NoSuchGroup", "usagetype~WriteRequestUnits"}},
		{"a tier that does not exist", []Item{{Name: capacity.PriceSQSRequests, ServiceCode: "AWSQueueService", UsageType: "Requests-RBP",
			BeginRange: "5", Attributes: map[string]string{"queueType": "Standard"}}},
			[]string{"sqs.requests in eu-west-1: SKU", "has no tier beginning at 5"}},
	}
	saved := Items
	t.Cleanup(func() { Items = saved })
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			Items = tc.items
			out, changes, err := Refresh(context.Background(), client(&replay{}), table, []string{"eu-west-1"}, "2026-12-05")
			require.Error(t, err)
			for _, w := range tc.want {
				assert.Contains(t, err.Error(), w)
			}
			assert.Nil(t, changes)
			assert.Equal(t, table, out, "nothing written")
		})
	}
	Items = []Item{{Name: capacity.PriceDynamoWRU, ServiceCode: "AmazonDynamoDB", UsageType: "WriteRequestUnits",
		Attributes: map[string]string{"productFamily": "Amazon DynamoDB PayPerRequest Throughput"}}}
	UsageTypePrefixes["eu-west-1"] = append(UsageTypePrefixes["eu-west-1"], "EU-IA-")
	t.Cleanup(func() { UsageTypePrefixes["eu-west-1"] = UsageTypePrefixes["eu-west-1"][:2] })
	_, _, err = Refresh(context.Background(), client(&replay{}), table, []string{"eu-west-1"}, "2026-12-05")
	require.Error(t, err, "two products answer for the item: the standard and the IA table class")
	assert.Contains(t, err.Error(), "dynamodb.write_request_units in eu-west-1: 2 products match")
}

// The AWS CLI documentation's published answer of GetProducts, replayed to
// the real client for the CLI's own request, reads as the page says:
// $0.138 per GB-month, SKU 3MKHN58N7RDDVGKJ, offer version 20180808005701.
func TestTheCLIDocumentationsExampleParses(t *testing.T) {
	body, err := os.ReadFile(filepath.Join("testdata", "awscli-doc-get-products-example.json"))
	require.NoError(t, err)
	var sent getProductsRequest
	rt := roundTripFunc(func(req *http.Request) (*http.Response, error) {
		require.NoError(t, json.NewDecoder(req.Body).Decode(&sent))
		return answer(200, string(body)), nil
	})
	out, err := client(rt).GetProducts(context.Background(), &pricing.GetProductsInput{
		ServiceCode: aws.String("AmazonEC2"), FormatVersion: aws.String("aws_v1"), MaxResults: aws.Int32(1),
		Filters: []types.Filter{
			{Type: types.FilterTypeTermMatch, Field: aws.String("ServiceCode"), Value: aws.String("AmazonEC2")},
			{Type: types.FilterTypeTermMatch, Field: aws.String("volumeType"), Value: aws.String("Provisioned IOPS")},
		}})
	require.NoError(t, err)
	assert.Equal(t, "AmazonEC2", sent.ServiceCode)
	assert.Equal(t, 1, sent.MaxResults)
	assert.Equal(t, "aws_v1", aws.ToString(out.FormatVersion))
	assert.True(t, strings.HasPrefix(aws.ToString(out.NextToken), "WGDY7ko8fQXdlaUZVdasFQ=="))
	require.Len(t, out.PriceList, 1)
	p, err := ParseProduct(out.PriceList[0])
	require.NoError(t, err)
	assert.Equal(t, "3MKHN58N7RDDVGKJ", p.Product.SKU)
	assert.Equal(t, "APS1-EBS:VolumeUsage.piops", p.Product.Attributes["usagetype"])
	usd, unit, err := p.OnDemand("")
	require.NoError(t, err)
	assert.Equal(t, 0.138, usd)
	assert.Equal(t, "GB-Mo", unit)
	assert.Equal(t, "20180808005701", p.Version)
	assert.Equal(t, "2018-08-08T00:57:01Z", p.PublicationDate)
	f, err := found(Item{Name: "ebs.piops", ServiceCode: "AmazonEC2"}, "ap-southeast-1", p)
	require.NoError(t, err)
	assert.Equal(t, "AWS Price List API: AmazonEC2 SKU 3MKHN58N7RDDVGKJ (APS1-EBS:VolumeUsage.piops, GB-Mo), OnDemand JRTCKXETXF, offer version 20180808005701, published 2018-08-08T00:57:01Z", f.Price.Source)
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestRoundKeepsTenDigits(t *testing.T) {
	for in, want := range map[float64]float64{0.000000705 * 1e6: 0.705, 0.0000001415 * 1e6: 0.1415, 0.0000133334: 0.0000133334, 0: 0} {
		assert.Equal(t, want, round(in))
	}
}
