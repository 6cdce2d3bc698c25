// Package contract holds every fact the application (what ships in the Lambda
// zip, under app/) and the infrastructure (the Pulumi program: components/,
// stacks/) must agree on, written once: the routes and their request schemas,
// the calls table's key schema, the Lambda's environment variable names,
// binary name and architecture, the archive key prefix, the metric namespace
// and names, the stack output names, the DNS failover chain's names and the failover control. Both sides read it;
// neither declares any of it again. It imports nothing but the standard
// library, so the Lambda never links Pulumi.
package contract
