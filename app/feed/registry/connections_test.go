package registry

import (
	"errors"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/stretchr/testify/assert"
)

func cancelled(codes ...string) error {
	var reasons []types.CancellationReason
	for _, c := range codes {
		reasons = append(reasons, types.CancellationReason{Code: aws.String(c)})
	}
	return fmt.Errorf("transact: %w", &types.TransactionCanceledException{CancellationReasons: reasons})
}

func TestTransactionOutcomes(t *testing.T) {
	tests := []struct {
		name                 string
		err                  error
		registered, conflict bool
	}{
		{"the connection's condition failed", cancelled("ConditionalCheckFailed", "None"), true, false},
		{"a concurrent transaction on the partition", cancelled("None", "TransactionConflict"), false, true},
		{"throttled", cancelled("ThrottlingError", "None"), false, true},
		{"in progress", &types.TransactionInProgressException{}, false, true},
		{"another error", errors.New("boom"), false, false},
		{"no error", nil, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.registered, alreadyRegistered(tt.err))
			assert.Equal(t, tt.conflict, conflicted(tt.err))
		})
	}
}
