// Package components is access911's infrastructure as a library of Pulumi
// component resources, one per concern: the calls table (or a table of any
// key schema), the archive bucket with cross-region replication, the
// secrets, the intake queue, functions, the REST API, the alarms, the
// dispatcher feed and DNS failover.
//
// Each is NewX(ctx, name, args, opts...) with a typed Args struct whose zero
// values take access911's defaults (each seed number named once, with its
// source), registers its children under itself and its outputs, and calls no
// AWS API: it knows nothing of regions or stacks; pass a provider in opts.
// The security defaults are on unless an argument says otherwise:
// encryption, least-privilege IAM, blocked public access, TLS only,
// point-in-time recovery, deletion protection and Pulumi's protect and
// retain-on-delete on data (CallsTableArgs.AllowDestroy turns those last
// three off for a table that may go).
//
// Another Go program uses them as it would any Pulumi package:
//
//	table, err := components.NewCallsTable(ctx, "orders", &components.CallsTableArgs{
//		Name:    "shop-orders",
//		Billing: capacity.Billing{Mode: capacity.PayPerRequest},
//		Keys:    &components.TableKeys{Hash: contract.KeyAttribute{Name: "order_id", Type: "S"}},
//	}, pulumi.Provider(provider))
//
// and tests it under mocks with package pulumitest (see the examples).
// The components that describe themselves take App, the application their
// descriptions name (default access911; the archive takes Purpose); the
// functions take their package as Code or as an S3
// CodeObject. docs/library.md lists every argument and its default;
// provider/ publishes the table, the archive and the alarms to other Pulumi
// languages.
package components
