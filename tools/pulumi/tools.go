//go:build tools

// Package pulumi pins the Pulumi CLI (github.com/pulumi/pulumi/pkg/v3/cmd/pulumi).
package pulumi

import _ "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi"
