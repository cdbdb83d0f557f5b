package liblog

import (
	"bytes"
	"errors"
	"log"
	"strings"
	"sync"
	"testing"

	"github.com/sirupsen/logrus"

	"github.com/capstan-gitops/capstan/internal/golden"
)

func TestShort(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"Creating node 'k3d-trynew-server-0'", "creating node k3d-trynew-server-0"},
		{"Deleting 1 attached volumes...", "deleting 1 attached volumes"},
		{"HostIP: using network gateway 172.18.0.1 address\nsecond line", "HostIP: using network gateway 172.18.0.1 address"},
		{strings.Repeat("x", 150), strings.Repeat("x", MaxLine-1) + "…"},
		{"", ""},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			t.Parallel()
			if got := Short(tt.in); got != tt.want {
				t.Errorf("Short(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

// TestRoute cannot run in parallel: it routes the standard library's log.
func TestRoute(t *testing.T) {
	for _, verbose := range []bool{false, true} {
		name := "default"
		if verbose {
			name = "verbose"
		}
		t.Run(name, func(t *testing.T) {
			var mu sync.Mutex
			var got bytes.Buffer
			k3dLike := logrus.New()
			var leaked bytes.Buffer
			k3dLike.SetOutput(&leaked)
			restore := Router{Verbose: verbose, Sink: func(s string) {
				mu.Lock()
				defer mu.Unlock()
				got.WriteString("   │ " + s + "\n")
			}}.Route(k3dLike)
			k3dLike.Infof("Creating node '%s'", "k3d-trynew-server-0")
			k3dLike.Debugf("Created container %s", "0123abcd")
			k3dLike.WithError(errors.New("runc create failed")).Warn("Failed to start node 'k3d-trynew-tools'")
			log.Printf("Warning: 'commonLabels' is deprecated. Please use 'labels' instead.")
			restore()
			k3dLike.Info("after restore")
			if leaked.String() != "" && !strings.Contains(leaked.String(), "after restore") || strings.Contains(leaked.String(), "Creating") {
				t.Errorf("the logger wrote its own output while routed: %q", leaked.String())
			}
			golden.Assert(t, "route-"+name, got.Bytes())
		})
	}
}
