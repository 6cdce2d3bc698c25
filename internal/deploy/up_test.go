package deploy

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestOrderPutsTheHomeRegionFirst(t *testing.T) {
	d := &Deployer{Regions: []string{"us-east-1", "us-west-2", "eu-west-1"}, Home: "us-west-2"}
	for _, tc := range []struct {
		name  string
		only  []string
		from  string
		want  []string
		error string
	}{
		{name: "every region, home first", want: []string{"us-west-2", "us-east-1", "eu-west-1"}},
		{name: "some regions keep the order", only: []string{"eu-west-1", "us-west-2"}, want: []string{"us-west-2", "eu-west-1"}},
		{name: "from resumes there", from: "us-east-1", want: []string{"us-east-1", "eu-west-1"}},
		{name: "from the last", from: "eu-west-1", want: []string{"eu-west-1"}},
		{name: "an unknown region", only: []string{"ap-south-1"}, error: `"ap-south-1" is not a serving region (access911:regions: us-east-1, us-west-2, eu-west-1)`},
		{name: "from outside the regions run", only: []string{"us-west-2"}, from: "eu-west-1", error: "--from eu-west-1 is not among the regions to run (us-west-2)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := d.Order(tc.only, tc.from)
			if tc.error != "" {
				require.EqualError(t, err, tc.error)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestStoppedSaysWhatWasDoneAndHowToResume(t *testing.T) {
	o := &Outcome{Region: "us-west-2", Result: ResultFailed, Err: errors.New("boom")}
	err := stopped([]string{"us-east-1", "us-west-2", "eu-west-1"}, 1, o)
	assert.EqualError(t, err, "us-west-2 failed: boom\ndone: us-east-1\nnot touched: eu-west-1\nresume with: access911 up --from us-west-2")
	first := stopped([]string{"us-east-1"}, 0, &Outcome{Region: "us-east-1", Result: ResultDeclined, Err: errors.New("not confirmed")})
	assert.EqualError(t, first, "us-east-1 not applied: not confirmed\nresume with: access911 up --from us-east-1")
}

func TestWriteOutcomes(t *testing.T) {
	var b bytes.Buffer
	WriteOutcomes(&b, []Outcome{
		{Region: "us-east-1", Result: ResultUpdated, Changes: map[string]int{"create": 3, "same": 2, "update": 1}, Duration: 3200 * time.Millisecond, APIURL: "https://a/v1"},
		{Region: "us-west-2", Result: ResultNotStarted},
	})
	assert.Equal(t, "REGION     RESULT       CHANGES                                DURATION  API URL\n"+
		"us-east-1  updated      3 to create, 1 to update, 2 unchanged  3.2s      https://a/v1\n"+
		"us-west-2  not started  -                                      0s        -\n", b.String())
}
