package main

import (
	"bufio"
	"bytes"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestAskOnAppliesOnlyOnYes(t *testing.T) {
	for _, tc := range []struct {
		answer string
		apply  bool
	}{{"y\n", true}, {"YES\n", true}, {" yes \n", true}, {"n\n", false}, {"\n", false}, {"sure\n", false}} {
		var out bytes.Buffer
		ok, err := askOn(bufio.NewReader(strings.NewReader(tc.answer)), &out)("us-west-2")
		require.NoError(t, err)
		assert.Equal(t, tc.apply, ok, "%q", tc.answer)
		assert.Equal(t, "apply this preview to us-west-2? [y/N] ", out.String())
	}
	_, err := askOn(bufio.NewReader(strings.NewReader("")), &bytes.Buffer{})("us-east-1")
	assert.ErrorContains(t, err, "use --yes", "no terminal to answer: say how to run unattended")
}

func TestSplitRegions(t *testing.T) {
	assert.Equal(t, []string{"us-east-1", "eu-west-1"}, splitRegions(" us-east-1, ,eu-west-1 "))
	assert.Nil(t, splitRegions(""))
}

func TestUpRefusesAnUnknownRegionBeforeTouchingAnything(t *testing.T) {
	var stdout, stderr bytes.Buffer
	code := run([]string{"preflight", "--regions", "ap-south-1"}, &stdout, &stderr)
	assert.Equal(t, 2, code, stderr.String())
	assert.Contains(t, stderr.String(), `"ap-south-1" is not a serving region`)
}
