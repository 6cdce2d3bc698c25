package plan

import (
	"strings"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// MockAccountID is the placeholder account the offline plan runs as. It is
// not a real account.
const MockAccountID = "000000000000"

// ProviderTypePrefix starts the type token of every provider resource.
const ProviderTypePrefix = "pulumi:providers:"

// Resource is one resource the program registered.
type Resource struct {
	// Type is the Pulumi type token, e.g. aws:dynamodb/table:Table.
	Type string `json:"type"`
	// Name is the logical name.
	Name string `json:"name"`
	// URN identifies the resource in the stack.
	URN string `json:"urn"`
	// Parent is the URN of the parent (a component or the stack).
	Parent string `json:"parent,omitempty"`
	// Custom is false for component resources.
	Custom bool `json:"-"`
	// Region is the region of the provider that manages the resource ("" for
	// components and for resources on a default provider).
	Region string `json:"region,omitempty"`
	// Provider is the provider reference the engine received ("" = default).
	Provider string `json:"-"`
	// Secrets are the inputs that are Pulumi secrets; their values read
	// SecretMask.
	Secrets []string `json:"secrets,omitempty"`
	// Protect, RetainOnDelete, DeleteBeforeReplace and IgnoreChanges are
	// the resource options.
	Protect             bool     `json:"protect,omitempty"`
	RetainOnDelete      bool     `json:"retainOnDelete,omitempty"`
	DeleteBeforeReplace bool     `json:"deleteBeforeReplace,omitempty"`
	IgnoreChanges       []string `json:"ignoreChanges,omitempty"`
	// DependsOn are the explicit dependencies' URNs.
	DependsOn []string `json:"-"`
	// Inputs are the inputs with Pulumi property names, as the engine gets them.
	Inputs map[string]any `json:"inputs"`
	// Outputs are the inputs plus what AWS would compute (names, ARNs) in
	// the shapes AWS uses: what other resources' inputs refer to.
	Outputs map[string]any `json:"-"`
}

// Str reads a string input at a dotted path ("" when absent).
func (r Resource) Str(path string) string {
	s, _ := Lookup(r.Inputs, path).(string)
	return s
}

// List reads a list input at a dotted path.
func (r Resource) List(path string) []any {
	l, _ := Lookup(r.Inputs, path).([]any)
	return l
}

// Output reads a string output.
func (r Resource) Output(key string) string {
	s, _ := r.Outputs[key].(string)
	return s
}

// Invoke is one provider function the program called (a data source).
type Invoke struct {
	Token  string
	Region string
	Args   map[string]any
}

// Result is what one stack would create.
type Result struct {
	Project   string
	Stack     string
	Region    string // aws:region of the stack
	Resources []Resource
	// Invokes are the data sources the program read, in call order.
	Invokes  []Invoke
	Outputs  map[string]any
	Duration time.Duration
}

// Custom returns the resources a provider would create, providers excluded.
func (r *Result) Custom() []Resource {
	var out []Resource
	for _, res := range r.Resources {
		if res.Custom && !strings.HasPrefix(res.Type, ProviderTypePrefix) {
			out = append(out, res)
		}
	}
	return out
}

// ByType returns the custom resources of one type token.
func (r *Result) ByType(token string) []Resource {
	var out []Resource
	for _, res := range r.Resources {
		if res.Type == token {
			out = append(out, res)
		}
	}
	return out
}

// SecretMask stands for a secret input's value.
const SecretMask = "[secret]"

// Program is a Pulumi program that also hands back its stack outputs, so the
// harness can see them (mocks do not receive exports).
type Program func(ctx *pulumi.Context) (pulumi.Map, error)

// Run executes program for one stack of the project under mocks, with the
// stack's configuration (possibly edited by the caller; secretKeys are the
// keys the engine would mark secret, as `pulumi config set --secret` does)
// and returns what it registered. It never talks to AWS or to a Pulumi
// backend. On error the result still lists what was registered before the
// failure.
func Run(projectName, stack string, cfg map[string]string, program Program, secretKeys ...string) (*Result, error) {
	m := &mocks{project: projectName, stack: stack, providerRegion: map[string]string{}}
	res := &Result{Project: projectName, Stack: stack, Region: cfg["aws:region"]}
	start := time.Now()
	err := pulumi.RunErr(func(ctx *pulumi.Context) error {
		outputs, err := program(ctx)
		if err != nil {
			return err
		}
		pulumi.ToMap(map[string]any(toAnyMap(outputs))).ToMapOutput().ApplyT(func(v map[string]any) error {
			res.Outputs = v
			return nil
		})
		return nil
	}, pulumi.WithMocks(projectName, stack, m), withConfig(cfg, secretKeys))
	res.Duration = time.Since(start)
	res.Resources = m.resolved()
	res.Invokes = m.invokes
	return res, err
}

func toAnyMap(m pulumi.Map) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// withConfig hands the configuration to the program as the engine would.
func withConfig(cfg map[string]string, secretKeys []string) pulumi.RunOption {
	return func(info *pulumi.RunInfo) {
		info.Config = cfg
		info.ConfigSecretKeys = secretKeys
	}
}
