package components

import "github.com/access911/access911-infra/contract"

// appName is the application a component names in its descriptions and
// Name tags: app, or access911's (contract.Service) when unset.
func appName(app string) string {
	if app == "" {
		return contract.Service
	}
	return app
}
