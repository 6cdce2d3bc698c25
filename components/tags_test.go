package components

import (
	"reflect"
	"testing"

	"github.com/stretchr/testify/assert"
)

// Every argument a component takes carries a pulumi tag, unique in its
// struct: the names a multi-language component package would publish
// (docs/library.md).
func TestArgsFieldsCarryPulumiTags(t *testing.T) {
	for _, v := range []any{AlarmsArgs{}, IntakeAlarms{}, ReadCacheAlarms{}, APIArgs{}, ArchiveBucketArgs{}, FailoverArgs{},
		FailoverFeed{}, FeedArgs{}, FeedCacheInvalidator{}, FunctionArgs{}, FunctionIntake{}, InboxArgs{}, InboxTriggerArgs{},
		IntakeQueueArgs{}, DrainArgs{}, ReadCacheArgs{}, WebhookSecretArgs{}, ClientKeySecretArgs{}, CallsTableArgs{},
		TableKeys{}, TableIndex{}, CodeObject{}} {
		typ := reflect.TypeOf(v)
		seen := map[string]string{}
		for i := range typ.NumField() {
			f := typ.Field(i)
			if !f.IsExported() {
				continue
			}
			tag := f.Tag.Get("pulumi")
			assert.Regexp(t, `^[a-z]+([A-Z][a-z0-9]+)*$`, tag, "%s.%s: lower camel case, an acronym a word (apiId, kmsKeyArn)", typ.Name(), f.Name)
			if assert.NotEmpty(t, tag, "%s.%s has no pulumi tag", typ.Name(), f.Name) {
				assert.Empty(t, seen[tag], "%s: %s and %s share the tag %q", typ.Name(), seen[tag], f.Name, tag)
				seen[tag] = f.Name
			}
		}
	}
}
