// Command pulumi-resource-access911 is access911-infra's components as a
// Pulumi component package: a provider plugin that constructs the calls
// table, the archive and the alarms for a program in any Pulumi language
// (`pulumi package add` on this directory, which PulumiPlugin.yaml marks as
// a Go plugin). The arguments are plain values and inputs with pulumi tags;
// a provider is passed as a region name (docs/library.md).
package main

import (
	"context"
	"fmt"
	"os"

	p "github.com/pulumi/pulumi-go-provider"
	"github.com/pulumi/pulumi-go-provider/infer"
)

// Name and Version are the package's name and version.
const (
	Name    = "access911"
	Version = "0.1.0"
)

// Provider is the component package's provider.
func Provider() (p.Provider, error) {
	return infer.NewProviderBuilder().
		WithDisplayName("access911-infra").
		WithDescription("The calls table, the replicated archive and the alarms of access911-infra, for any Pulumi language.").
		WithRepository("https://github.com/access911/access911-infra").
		WithNamespace("access911").
		WithPublisher("access911").
		WithGoImportPath("github.com/access911/access911-infra/provider/sdk/go/access911").
		WithComponents(
			infer.ComponentF(NewCallsTable),
			infer.ComponentF(NewArchiveBucket),
			infer.ComponentF(NewAlarms),
		).Build()
}

func main() {
	prov, err := Provider()
	if err != nil {
		fmt.Fprintln(os.Stderr, "pulumi-resource-access911:", err)
		os.Exit(1)
	}
	if err := prov.Run(context.Background(), Name, Version); err != nil {
		fmt.Fprintln(os.Stderr, "pulumi-resource-access911:", err)
		os.Exit(1)
	}
}
