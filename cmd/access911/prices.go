package main

import (
	"context"
	"encoding/json"
	"fmt"
	"github.com/access911/access911-infra/cmd/access911/cli"
	"io"
	"maps"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/pricing"

	"github.com/access911/access911-infra/capacity"
	"github.com/access911/access911-infra/internal/prices"
)

// runPrices prints the embedded price table's date and provenance, or, with
// --refresh, looks every mapped item up in the AWS Price List Query API
// and writes the refreshed table.
func runPrices(args []string, stdout, stderr io.Writer) error {
	fs := cli.NewFlags("prices", stdout, stderr)
	refresh := fs.Bool("refresh", false, "look the prices up in the AWS Price List Query API (needs credentials allowed pricing:GetProducts)")
	regions := fs.String("regions", "", "comma-separated regions to refresh (default: every region in the table)")
	out := fs.String("out", "", "where to write the refreshed table (default: capacity/prices.json of the project)")
	endpoint := fs.String("endpoint-region", prices.Endpoints[0], "the Price List API's region: "+strings.Join(prices.Endpoints, " or "))
	dir := fs.String("dir", "", "directory holding Pulumi.yaml (default: the nearest one)")
	if err := fs.ParseArgs(args); err != nil {
		return err
	}
	table, err := capacity.LoadPrices()
	if err != nil {
		return err
	}
	if !*refresh {
		fmt.Fprintf(stdout, "prices of %s, %d regions\n%s\n", table.Date, len(table.Regions), table.Provenance)
		fmt.Fprintf(stdout, "not looked up by --refresh (pricing-page sources kept): %s\n", strings.Join(prices.Unmapped(table), ", "))
		return nil
	}
	targets := sortedRegions(table)
	if *regions != "" {
		targets = strings.Split(*regions, ",")
	}
	path := *out
	if path == "" {
		projectDir, err := cli.ProjectDirOr(*dir)
		if err != nil {
			return err
		}
		path = filepath.Join(projectDir, "capacity", "prices.json")
	}
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	cfg, err := awsconfig.LoadDefaultConfig(ctx, awsconfig.WithRegion(*endpoint))
	if err != nil {
		return fmt.Errorf("aws config: %w", err)
	}
	refreshed, changes, err := prices.Refresh(ctx, pricing.NewFromConfig(cfg), table, targets, time.Now().UTC().Format("2006-01-02"))
	if err != nil {
		return fmt.Errorf("refresh (nothing written): %w", err)
	}
	b, err := json.MarshalIndent(refreshed, "", " ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return err
	}
	prices.WriteChanges(stdout, changes)
	fmt.Fprintf(stdout, "wrote %s (dated %s); rebuild to embed it\n", path, refreshed.Date)
	return nil
}

func sortedRegions(t capacity.PriceTable) []string {
	return slices.Sorted(maps.Keys(t.Regions))
}
