//go:build integration

package local

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/access911/access911-infra/app/feed"
	"github.com/access911/access911-infra/internal/emulator"
)

// rawDial opens a WebSocket by hand, so a test can break the protocol.
func rawDial(t *testing.T, f *feedStack) net.Conn {
	t.Helper()
	addr := strings.TrimPrefix(f.srv.URL, "http://")
	c, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	key := make([]byte, 16)
	_, _ = rand.Read(key)
	token := feed.MintToken(feedSecret, "raw", time.Hour, time.Now())
	fmt.Fprintf(c, "GET /?token=%s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n", token, addr, base64.StdEncoding.EncodeToString(key))
	r := bufio.NewReader(c)
	resp, err := http.ReadResponse(r, nil)
	require.NoError(t, err)
	require.Equal(t, http.StatusSwitchingProtocols, resp.StatusCode)
	require.Zero(t, r.Buffered(), "nothing after the handshake yet")
	return c
}

// frame is a client frame: masked unless unmasked, with the length it says.
func frame(opcode byte, payload []byte, masked bool) []byte {
	out := []byte{0x80 | opcode}
	maskBit := byte(0)
	if masked {
		maskBit = 0x80
	}
	switch n := len(payload); {
	case n < 126:
		out = append(out, maskBit|byte(n))
	case n < 1<<16:
		out = append(out, maskBit|126, byte(n>>8), byte(n))
	default:
		out = append(out, maskBit|127)
		out = binary.BigEndian.AppendUint64(out, uint64(n))
	}
	if !masked {
		return append(out, payload...)
	}
	mask := []byte{1, 2, 3, 4}
	out = append(out, mask...)
	for i, b := range payload {
		out = append(out, b^mask[i%4])
	}
	return out
}

// closeCode reads the server's frames until its close frame, answers it
// as a client does, and returns its status; 0 when the server closed the
// socket without one. Either way the server must then close the socket.
func closeCode(t *testing.T, c net.Conn) int {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	r := bufio.NewReader(c)
	code := 0
	for {
		head := make([]byte, 2)
		if _, err := io.ReadFull(r, head); err != nil {
			require.NotErrorIs(t, err, os.ErrDeadlineExceeded, "the server must close the connection")
			return 0 // closed without a close frame
		}
		n := int(head[1] & 0x7f)
		switch n {
		case 126:
			ext := make([]byte, 2)
			_, _ = io.ReadFull(r, ext)
			n = int(binary.BigEndian.Uint16(ext))
		case 127:
			ext := make([]byte, 8)
			_, _ = io.ReadFull(r, ext)
			n = int(binary.BigEndian.Uint64(ext))
		}
		payload := make([]byte, n)
		if _, err := io.ReadFull(r, payload); err != nil {
			return 0
		}
		if head[0]&0x0f == 0x8 {
			if n >= 2 {
				code = int(binary.BigEndian.Uint16(payload[:2]))
			}
			_, _ = c.Write(frame(0x8, payload[:min(n, 2)], true)) // the client's answer
			break
		}
	}
	_, err := io.ReadAll(r)
	require.NotErrorIs(t, err, os.ErrDeadlineExceeded, "after the close handshake the server closes the socket")
	return code
}

// closeIdleClients closes the idle keep-alive connections of the DynamoDB
// client the $connect and $disconnect routes use: each holds a socket and
// two goroutines kept for reuse, which are not the gateway's and would make
// its count vary with the pool (a run here saw fds +3 and goroutines +6:
// three more pooled DynamoDB connections after the 240 disconnects).
func closeIdleClients(f *feedStack) {
	if db, ok := f.registry.DB.(*dynamodb.Client); ok {
		if c, ok := db.Options().HTTPClient.(interface{ CloseIdleConnections() }); ok {
			c.CloseIdleConnections()
		}
	}
	runtime.GC()
}

func openFDs(t *testing.T) int {
	t.Helper()
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		if emulator.InCI() {
			t.Fatalf("counting open sockets needs /proc/self/fd: %v", err)
		}
		t.Skipf("SKIPPED: %s counts open sockets in /proc/self/fd, which is not available (%v); CI=true makes this a failure", t.Name(), err)
	}
	return len(entries)
}

// Every way a client can break a connection ends it: the server sends the
// close status RFC 6455 (and API Gateway) names, closes its socket and
// routes $disconnect once; after a few hundred of them the server's
// connections, sockets and goroutines are back where they were.
func TestBrokenConnectionsAreClosed(t *testing.T) {
	f := startFeed(t, 4)
	_, ok := f.registry.DB.(*dynamodb.Client)
	require.True(t, ok, "the registry's DynamoDB client, whose idle connections are closed before counting")
	closeIdleClients(f)
	fdsBefore, goroutinesBefore := openFDs(t), runtime.NumGoroutine()
	ways := []struct {
		name  string
		send  func(c net.Conn)
		close int // 0: the server just closes
	}{
		{"binary frame", func(c net.Conn) { _, _ = c.Write(frame(0x2, []byte{1, 2, 3}, true)) }, int(websocket.StatusUnsupportedData)},
		{"text that is not UTF-8", func(c net.Conn) { _, _ = c.Write(frame(0x1, []byte{0xff, 0xfe, 'x'}, true)) }, int(websocket.StatusInvalidFramePayloadData)},
		{"message over 128 KB", func(c net.Conn) { _, _ = c.Write(frame(0x1, []byte(strings.Repeat("a", 129*1024)), true)) }, int(websocket.StatusMessageTooBig)},
		{"unmasked frame", func(c net.Conn) { _, _ = c.Write(frame(0x1, []byte("hello"), false)) }, int(websocket.StatusProtocolError)},
		{"impossible length", func(c net.Conn) {
			_, _ = c.Write(append([]byte{0x81, 0x80 | 127}, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 1, 2, 3, 4))
		}, int(websocket.StatusProtocolError)},
		{"half-close", func(c net.Conn) { _ = c.(*net.TCPConn).CloseWrite() }, 0},
	}
	const rounds = 40 // 240 broken connections
	for _, w := range ways {
		t.Run(w.name, func(t *testing.T) {
			for range rounds {
				c := rawDial(t, f)
				w.send(c)
				code := closeCode(t, c)
				if w.close != 0 {
					assert.Equal(t, w.close, code)
				}
				c.Close()
			}
		})
	}
	require.Eventually(t, func() bool { return f.gw.Connections() == 0 }, 5*time.Second, 20*time.Millisecond, "every connection ended")
	require.Eventually(t, func() bool { return total(t, f) == 0 }, 5*time.Second, 50*time.Millisecond, "$disconnect routed for each, counts back to 0")
	require.Eventually(t, func() bool {
		closeIdleClients(f)
		return openFDs(t) <= fdsBefore+2 && runtime.NumGoroutine() <= goroutinesBefore+5
	}, 10*time.Second, 100*time.Millisecond, "sockets and goroutines back where they were (fds %d -> %d, goroutines %d -> %d)",
		fdsBefore, openFDs(t), goroutinesBefore, runtime.NumGoroutine())
}

// Idle connections close after the idle timeout, all after the maximum
// duration, with 1001 (the gateway's limits shortened for the test).
func TestIdleAndOldConnectionsAreClosed(t *testing.T) {
	f := startFeed(t, 4)
	f.gw.IdleTimeout, f.gw.MaxDuration = 400*time.Millisecond, 1500*time.Millisecond
	ctx := context.Background()
	token := feed.MintToken(feedSecret, "d", time.Hour, time.Now())
	idle, err := f.dial(t, token)
	require.NoError(t, err)
	busy, err := f.dial(t, token)
	require.NoError(t, err)
	stop := make(chan struct{})
	go func() { // busy keeps talking, so only the maximum duration ends it
		for {
			select {
			case <-stop:
				return
			case <-time.After(100 * time.Millisecond):
				_ = busy.Write(ctx, websocket.MessageText, []byte(`{"action":"subscribe"}`))
			}
		}
	}()
	defer close(stop)
	readUntilClosed := func(c *websocket.Conn) (websocket.StatusCode, time.Duration) {
		start := time.Now()
		for {
			if _, _, err := c.Read(ctx); err != nil {
				return websocket.CloseStatus(err), time.Since(start)
			}
		}
	}
	code, after := readUntilClosed(idle)
	assert.Equal(t, websocket.StatusGoingAway, code)
	assert.Less(t, after, time.Second, "closed for idling")
	code, after = readUntilClosed(busy)
	assert.Equal(t, websocket.StatusGoingAway, code)
	assert.GreaterOrEqual(t, after, time.Second, "a talking connection lives until its maximum duration")
	require.Eventually(t, func() bool { return f.gw.Connections() == 0 }, 5*time.Second, 20*time.Millisecond)
}
