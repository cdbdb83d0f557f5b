package kubeclient_test

import (
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"k8s.io/client-go/rest"

	"github.com/capstan-gitops/capstan/internal/kubeclient"
)

func TestPingUnreachable(t *testing.T) {
	t.Parallel()
	// A listener that accepts and never answers: the worst case for a timeout.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = l.Close() })
	go func() {
		var conns []net.Conn
		for {
			c, err := l.Accept()
			if err != nil {
				for _, c := range conns {
					_ = c.Close()
				}
				return
			}
			conns = append(conns, c)
		}
	}()
	host := "https://" + l.Addr().String()
	start := time.Now()
	_, err = kubeclient.Ping(t.Context(), &rest.Config{Host: host}, 500*time.Millisecond)
	if !errors.Is(err, kubeclient.ErrUnreachable) {
		t.Fatalf("Ping = %v, want ErrUnreachable", err)
	}
	if !strings.Contains(err.Error(), host) {
		t.Errorf("error %q does not name %s", err, host)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("Ping took %s with a 500ms timeout", d)
	}
}
