package emulator

import (
	"context"
	"os/exec"
	"strconv"
)

// StartRedis runs redis-server (Debian's package; Valkey, which
// ElastiCache Serverless runs, speaks the same protocol) on a free loopback
// port, in memory only. Its URL is host:port, what a Redis client dials.
func StartRedis(ctx context.Context) (*Server, error) {
	srv, err := start(ctx, "redis-server", func(port int) *exec.Cmd {
		return exec.Command("redis-server", "--bind", "127.0.0.1", "--port", strconv.Itoa(port),
			"--save", "", "--appendonly", "no", "--protected-mode", "yes")
	}, tcpReady)
	if err != nil {
		return nil, err
	}
	srv.URL = srv.URL[len("http://"):]
	return srv, nil
}

// RedisForTests starts redis-server for a test binary.
func RedisForTests() *ForTests { return &ForTests{name: "redis-server", start: StartRedis} }
