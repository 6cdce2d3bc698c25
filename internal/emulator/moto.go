package emulator

import (
	"context"
	"fmt"
	"net/http"
	"os/exec"
	"strconv"
)

// StartMoto runs moto's server (`python3 -m moto.server`, installed with
// pip install 'moto[server]') on a free loopback port and waits until it
// answers.
func StartMoto(ctx context.Context) (*Server, error) {
	return start(ctx, "moto", func(port int) *exec.Cmd {
		return exec.Command("python3", "-m", "moto.server", "-H", "127.0.0.1", "-p", strconv.Itoa(port))
	}, func(url string) bool {
		resp, err := http.Get(url + "/moto-api/")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return true
	})
}

// ResetMoto drops every resource moto emulates.
func (s *Server) ResetMoto() error {
	resp, err := http.Post(s.URL+"/moto-api/reset", "application/json", nil)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("moto reset: HTTP %d", resp.StatusCode)
	}
	return nil
}
