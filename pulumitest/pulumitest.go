// Package pulumitest runs a Pulumi Go program under the SDK's mocks and
// hands back what it registered, for the tests and examples of a program
// built on this module's components: no engine, no cloud, no credentials.
// Every resource gets the id "<name>-id" and its inputs as its outputs; a
// provider function returns its arguments, but aws:getCallerIdentity,
// which answers AccountID, and the functions given with Invoke. An ACM
// certificate gets a DNS validation record per domain (what a program
// validating it indexes); Outputs adds what AWS computes for other types.
package pulumitest

import (
	"sort"
	"sync"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Resource is one registered resource, as the engine would have been asked.
type Resource struct {
	Type, Name string
	// Custom is false for a component resource.
	Custom bool
	// Inputs are the resource's inputs, as plain Go values.
	Inputs map[string]any
	// Protect and RetainOnDelete are the resource options of the same name.
	Protect, RetainOnDelete bool
}

// Result is every resource a run registered, in registration order.
type Result struct {
	Resources []Resource
}

// ByType is the registered resources of one type token, by name.
func (r *Result) ByType(token string) []Resource {
	var out []Resource
	for _, res := range r.Resources {
		if res.Type == token {
			out = append(out, res)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Option sets the project, stack, configuration or invoke answers of a run.
type Option func(*settings)

type settings struct {
	project, stack string
	config         map[string]string
	invokes        map[string]func(args map[string]any) map[string]any
	outputs        map[string]func(name string, inputs map[string]any) map[string]any
}

// Outputs adds to the state of every resource of the type token (e.g.
// "aws:lambda/function:Function") what fn returns for its name and inputs:
// the attributes AWS computes that the program reads.
func Outputs(token string, fn func(name string, inputs map[string]any) map[string]any) Option {
	return func(s *settings) { s.outputs[token] = fn }
}

// certificateValidation is an ACM certificate's DNS validation records, one
// per domain, as ACM reports them.
func certificateValidation(_ string, inputs map[string]any) map[string]any {
	domains := []any{inputs["domainName"]}
	if sans, ok := inputs["subjectAlternativeNames"].([]any); ok {
		domains = append(domains, sans...)
	}
	var options []any
	for _, d := range domains {
		domain, _ := d.(string)
		options = append(options, map[string]any{"domainName": domain, "resourceRecordName": "_0123456789abcdef." + domain + ".",
			"resourceRecordType": "CNAME", "resourceRecordValue": "_fedcba9876543210.acm-validations.aws."})
	}
	return map[string]any{"domainValidationOptions": options}
}

// AccountID is the AWS account aws:getCallerIdentity answers under mocks
// (the documentation's example account).
const AccountID = "123456789012"

// Invoke answers the provider function token (e.g.
// "aws:dynamodb/getTable:getTable") with what fn returns for its arguments.
func Invoke(token string, fn func(args map[string]any) map[string]any) Option {
	return func(s *settings) { s.invokes[token] = fn }
}

// Project names the run's project (default "test").
func Project(name string) Option { return func(s *settings) { s.project = name } }

// Stack names the run's stack (default "dev").
func Stack(name string) Option { return func(s *settings) { s.stack = name } }

// Config sets configuration values, keys as "namespace:key".
func Config(values map[string]string) Option { return func(s *settings) { s.config = values } }

// Run runs program under mocks and returns what it registered.
func Run(program pulumi.RunFunc, opts ...Option) (*Result, error) {
	s := settings{project: "test", stack: "dev", invokes: map[string]func(map[string]any) map[string]any{
		"aws:index/getCallerIdentity:getCallerIdentity": func(map[string]any) map[string]any {
			return map[string]any{"accountId": AccountID, "arn": "arn:aws:iam::" + AccountID + ":user/pulumitest",
				"userId": "PULUMITEST", "id": AccountID}
		},
	}, outputs: map[string]func(string, map[string]any) map[string]any{
		"aws:acm/certificate:Certificate": certificateValidation,
	}}
	for _, o := range opts {
		o(&s)
	}
	m := &mocks{invokes: s.invokes, outputs: s.outputs}
	err := pulumi.RunErr(program, pulumi.WithMocks(s.project, s.stack, m), func(info *pulumi.RunInfo) {
		info.Config = s.config
	})
	m.mu.Lock()
	defer m.mu.Unlock()
	return &Result{Resources: m.registered}, err
}

type mocks struct {
	mu         sync.Mutex
	registered []Resource
	invokes    map[string]func(args map[string]any) map[string]any
	outputs    map[string]func(name string, inputs map[string]any) map[string]any
}

func (m *mocks) NewResource(args pulumi.MockResourceArgs) (string, resource.PropertyMap, error) {
	r := Resource{Type: args.TypeToken, Name: args.Name, Custom: args.Custom, Inputs: args.Inputs.Mappable()}
	if rpc := args.RegisterRPC; rpc != nil {
		r.Protect, r.RetainOnDelete = rpc.GetProtect(), rpc.GetRetainOnDelete()
	}
	m.mu.Lock()
	m.registered = append(m.registered, r)
	m.mu.Unlock()
	state := args.Inputs.Copy()
	if fn := m.outputs[args.TypeToken]; fn != nil {
		for k, v := range resource.NewPropertyMapFromMap(fn(args.Name, r.Inputs)) {
			state[k] = v
		}
	}
	return args.Name + "-id", state, nil
}

func (m *mocks) Call(args pulumi.MockCallArgs) (resource.PropertyMap, error) {
	if fn := m.invokes[args.Token]; fn != nil {
		return resource.NewPropertyMapFromMap(fn(args.Args.Mappable())), nil
	}
	return args.Args, nil
}
