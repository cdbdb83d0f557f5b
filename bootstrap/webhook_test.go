package bootstrap

import (
	"bytes"
	"testing"

	"github.com/capstan-gitops/capstan/internal/golden"
)

func TestWebhookInfoGolden(t *testing.T) {
	t.Parallel()
	path := "/hook/" + "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	for _, tt := range []struct {
		name string
		info webhookInfo
	}{
		{"webhook-new-k3d", webhookInfo{Path: path, Token: "f00d" + "0000000000000000000000000000000000000000000000000000000000", HostPort: 9292}},
		{"webhook-kept", webhookInfo{Path: path}},
		{"webhook-kept-k3d-existing", webhookInfo{Path: path, HostPort: 9292, Reused: true}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var out bytes.Buffer
			tt.info.write(&out)
			golden.Assert(t, tt.name, out.Bytes())
		})
	}
}
