package emulator

import (
	"bytes"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestInstallProgressIsVisible(t *testing.T) {
	var b bytes.Buffer
	done := progress(&b, "installing DynamoDB Local")
	done(nil)
	assert.Contains(t, b.String(), "installing DynamoDB Local ...\n")
	assert.Contains(t, b.String(), "installed in ")

	b.Reset()
	progress(&b, "installing")(errors.New("npm failed"))
	assert.NotContains(t, b.String(), "installed in", "a failed install does not claim success")
}
