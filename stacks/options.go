package stacks

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/access911/access911-infra/artifact"
	"github.com/access911/access911-infra/contract"
	"github.com/access911/access911-infra/stacks/stackconfig"
)

// Options let another program build a region from this composition: its
// own name, configuration namespace, Lambda artifact, regions and parts.
// The zero value is access911's.
type Options struct {
	// App names the application: it prefixes every component's logical
	// name and the physical names the stacks choose (the default table
	// name <app>-calls, the dashboards, the API key secret <app>/api-key),
	// is the provider's "project" tag, and names the app in descriptions.
	// Lower-case letters, digits and hyphens; default "access911", whose
	// first deployed names (the table "calls", the providers "aws-<region>")
	// are kept so that no URN changes.
	App string
	// ConfigNamespace is where the keys are read ("shop" reads shop:regions,
	// ...); default stackconfig.Namespace ("access911").
	ConfigNamespace string
	// Code is the Lambda deployment package; nil builds ./cmd/lambda of the
	// module the program runs in (artifact.Build), access911's own.
	Code *artifact.Artifact
	// ArchivePairs add to the default archive destinations by serving
	// region (us-east-2 has none: an app serving from Ohio names one).
	ArchivePairs map[string]string
	// Regions are AWS regions to accept beyond the commercial regions
	// stackconfig knows (a region launched after this release).
	Regions []string
	// Features switch off parts of the region; the zero value has them all.
	Features Features
}

// Features are the parts of a region beyond its core (table, archive,
// call-intake function, API, alarms, DNS failover); each is on unless
// switched off.
type Features struct {
	// NoFeed leaves out the dispatcher feed: its WebSocket API, tables,
	// queues, functions and token secret. The read cache needs the feed
	// (its invalidator is handed the stream's changes by the feed's swarm).
	NoFeed bool
	// NoIntakeQueue leaves out the durable intake: the queue, its
	// dead-letter queues and the drain. The function then writes to the
	// table with no queue to fall back to; the intake mode must be direct
	// and the provider webhook off (its inbox's failures go to the intake).
	NoIntakeQueue bool
	// NoProviderWebhook leaves out the provider's webhook: its two routes,
	// the inbox and its trigger, the webhook secret, the inbox expiry rule
	// and the function's rights on them.
	NoProviderWebhook bool
	// NoReadCache refuses <namespace>:readCache valkey.
	NoReadCache bool
}

var appPattern = regexp.MustCompile(`^[a-z][a-z0-9-]{0,30}[a-z0-9]$`)

// normalized is o with its defaults, or an error naming the bad option.
func (o Options) normalized() (Options, error) {
	if o.App == "" {
		o.App = stackconfig.Namespace
	}
	if !appPattern.MatchString(o.App) {
		return o, fmt.Errorf("options: App %q: 2-32 lower-case letters, digits and hyphens, starting with a letter", o.App)
	}
	if o.ConfigNamespace == "" {
		o.ConfigNamespace = stackconfig.Namespace
	}
	return o, nil
}

// features checks the switches against each other and the configuration.
func (o Options) features(cfg stackconfig.Config) error {
	f, ns := o.Features, o.ConfigNamespace
	var errs []error
	if f.NoIntakeQueue && cfg.IntakeMode != contract.IntakeDirect {
		errs = append(errs, fmt.Errorf("%s:intakeMode %q needs the intake queue (Features.NoIntakeQueue): set it to %s",
			ns, cfg.IntakeMode, contract.IntakeDirect))
	}
	if f.NoIntakeQueue && !f.NoProviderWebhook {
		errs = append(errs, errors.New("options: Features.NoIntakeQueue needs Features.NoProviderWebhook: the provider inbox's failed deliveries go to the intake's queue"))
	}
	if cfg.ReadCache.Enabled() && (f.NoReadCache || f.NoFeed) {
		errs = append(errs, fmt.Errorf("%s:readCache %q needs the read cache and the feed (Features.NoReadCache, NoFeed): set it to %s",
			ns, cfg.ReadCache.Mode, stackconfig.ReadCacheNone))
	}
	return errors.Join(errs...)
}

// key is an access911 key as the app's namespace spells it.
func (o Options) key(k string) string {
	return strings.Replace(k, stackconfig.Namespace+":", o.ConfigNamespace+":", 1)
}

// renamed is err with access911's keys spelled in the app's namespace.
func (o Options) renamed(err error) error { return renameKeys(err, o.ConfigNamespace) }

// renameKeys spells access911's keys in err as namespace's.
func renameKeys(err error, namespace string) error {
	if err == nil || namespace == stackconfig.Namespace {
		return err
	}
	return errors.New(strings.ReplaceAll(err.Error(), stackconfig.Namespace+":", namespace+":"))
}

// isAccess911 says whether these are access911's own names.
func (o Options) isAccess911() bool { return o.App == stackconfig.Namespace }

// name is a component's logical name: <app>-<part>.
func (o Options) name(part string) string { return o.App + "-" + part }

// keptName is a logical name access911 deployed without its prefix: kept
// as it was for access911, prefixed for any other app.
func (o Options) keptName(name string) string {
	if o.isAccess911() {
		return name
	}
	return o.name(name)
}

// componentApp is what a component's App argument is: empty for access911
// (the components' default), the app otherwise.
func (o Options) componentApp() string {
	if o.isAccess911() {
		return ""
	}
	return o.App
}

// apiKeySecretName is the secret holding the API key every region accepts.
func (o Options) apiKeySecretName() string {
	if o.isAccess911() {
		return contract.APIKeySecretName
	}
	return o.App + "/api-key"
}

// parseOptions are what stackconfig needs of the options.
func (o Options) parseOptions() stackconfig.ParseOptions {
	p := stackconfig.ParseOptions{ArchivePairs: o.ArchivePairs, Regions: o.Regions}
	if !o.isAccess911() {
		p.Defaults = map[string]string{stackconfig.KeyTableName: o.App + "-calls"}
	}
	return p
}

// code is the Lambda artifact the options give, or access911's build.
func (o Options) code() (artifact.Artifact, error) {
	if o.Code != nil {
		if o.Code.Path == "" || o.Code.SHA256 == "" {
			return artifact.Artifact{}, errors.New("options: Code needs the zip's Path and its SHA256")
		}
		return *o.Code, nil
	}
	return artifact.Build(context.Background(), artifact.Options{ModuleDir: moduleDir()})
}
