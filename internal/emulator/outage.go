package emulator

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"regexp"
	"sync"
)

// RegionOutage is a loopback proxy in front of an emulator that behaves as
// though one AWS region were unreachable: a request signed for that region
// (its SigV4 credential scope, date/REGION/service/aws4_request, names it)
// has its connection dropped without an answer, as a network partition
// would; every other request passes through. It counts both, per region.
type RegionOutage struct {
	// URL is the proxy's endpoint, to use as an SDK BaseEndpoint.
	URL    string
	Region string

	srv    *http.Server
	mu     sync.Mutex
	passed map[string]int
	denied map[string]int
}

// credentialScope reads the region out of a SigV4 Authorization header.
var credentialScope = regexp.MustCompile(`Credential=[^/]+/\d{8}/([a-z0-9-]+)/`)

// StartRegionOutage proxies target, dropping every request signed for region.
func StartRegionOutage(target, region string) (*RegionOutage, error) {
	u, err := url.Parse(target)
	if err != nil {
		return nil, fmt.Errorf("outage target: %w", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	o := &RegionOutage{URL: "http://" + ln.Addr().String(), Region: region, passed: map[string]int{}, denied: map[string]int{}}
	proxy := httputil.NewSingleHostReverseProxy(u)
	o.srv = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		scope := ""
		if m := credentialScope.FindStringSubmatch(r.Header.Get("Authorization")); m != nil {
			scope = m[1]
		}
		o.mu.Lock()
		down := scope == o.Region
		if down {
			o.denied[scope]++
		} else {
			o.passed[scope]++
		}
		o.mu.Unlock()
		if !down {
			proxy.ServeHTTP(w, r)
			return
		}
		if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
			_ = conn.Close() // no answer at all: the region is unreachable
		}
	})}
	go func() { _ = o.srv.Serve(ln) }()
	return o, nil
}

// Denied is how many requests signed for region were dropped.
func (o *RegionOutage) Denied(region string) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.denied[region]
}

// Passed is how many requests signed for region went through.
func (o *RegionOutage) Passed(region string) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.passed[region]
}

// Stop closes the proxy.
func (o *RegionOutage) Stop() { _ = o.srv.Close() }
