package kubeclient_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"k8s.io/client-go/rest"

	"github.com/capstan-gitops/capstan/internal/kubeclient"
	"github.com/capstan-gitops/capstan/internal/testenv"
)

func TestPingUnreachable(t *testing.T) {
	t.Parallel()
	// A server that accepts and never answers: the worst case for a timeout.
	host := "https://" + testenv.SilentAddr(t)
	start := time.Now()
	_, err := kubeclient.Ping(t.Context(), &rest.Config{Host: host}, 500*time.Millisecond)
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
