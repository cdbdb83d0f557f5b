package repo

import (
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/capstan-gitops/capstan/internal/golden"
)

func TestRenderFilesGolden(t *testing.T) {
	t.Parallel()
	base := Settings{Version: "v0.1.0", LogLevel: "info", Interval: time.Minute}
	webhook := base
	webhook.Webhook, webhook.WebhookNodePort = true, 32292
	webhook.Notify = "- type: slack\n  secretRef: {name: slack-webhook}\n  events: [failed, unhealthy, healthy]\n"
	for _, tt := range []struct {
		name, golden string
		settings     Settings
	}{
		{"default", "render-files", base},
		{"webhook and notify", "render-files-webhook", webhook},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			files, err := RenderFiles(Input{
				URL: "ssh://git@example.com/org/cluster-config.git", Branch: "main", Path: "clusters/dwk", HasCredentials: true,
				Settings: tt.settings,
			})
			if err != nil {
				t.Fatal(err)
			}
			names := make([]string, 0, len(files))
			for name := range files {
				names = append(names, name)
			}
			sort.Strings(names)
			var all strings.Builder
			for _, name := range names {
				if strings.HasSuffix(name, ComponentsFile) {
					continue // golden-tested by components/manifests
				}
				all.WriteString("==> " + name + "\n" + string(files[name]))
			}
			golden.Assert(t, tt.golden, []byte(all.String()))
			want := []string{"clusters/dwk/capstan-system/components.yaml", "clusters/dwk/capstan-system/kustomization.yaml", "clusters/dwk/capstan-system/settings.yaml", "clusters/dwk/capstan-system/sync.yaml"}
			if diff := cmp.Diff(want, names); diff != "" {
				t.Errorf("files (-want +got):\n%s", diff)
			}
			nodePort := strings.Contains(string(files["clusters/dwk/capstan-system/components.yaml"]), "nodePort: 32292")
			if nodePort != (tt.settings.WebhookNodePort > 0) {
				t.Errorf("components.yaml has the webhook node port: %v, want %v", nodePort, tt.settings.WebhookNodePort > 0)
			}
		})
	}
}

func TestSettingsRoundTrip(t *testing.T) {
	t.Parallel()
	for _, in := range []Settings{
		{Version: "v0.3.0", Image: "registry.local/capstan:v0.3.0", LogLevel: "debug", Interval: 30 * time.Second},
		{Version: "v0.3.0", LogLevel: "info", Interval: time.Minute, Webhook: true, WebhookNodePort: 32292,
			Notify: "- type: github\n  secretRef: {name: github-status}\n"},
	} {
		files, err := RenderFiles(Input{URL: "https://example.com/r.git", Branch: "main", Path: "c", Settings: in})
		if err != nil {
			t.Fatal(err)
		}
		got, err := ParseSettings(files["c/capstan-system/settings.yaml"])
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(in, *got); diff != "" {
			t.Errorf("round trip (-want +got):\n%s", diff)
		}
	}
}

func TestResolveSettings(t *testing.T) {
	t.Parallel()
	stored := &Settings{Version: "v0.2.0", Image: "custom:v0.2.0", LogLevel: "debug", Interval: 5 * time.Minute}
	tests := []struct {
		name     string
		flags    Flags
		stored   *Settings
		cli      string
		want     Settings
		wantNote bool
	}{
		{name: "first bootstrap uses the CLI's version", cli: "v0.2.0", want: Settings{Version: "v0.2.0", LogLevel: "info", Interval: time.Minute}},
		{name: "same CLI keeps everything stored", stored: stored, cli: "v0.2.0", want: *stored},
		{name: "older CLI never downgrades", stored: stored, cli: "v0.1.0", want: *stored},
		{name: "development CLI never downgrades", stored: stored, cli: "v0.0.0-dev", want: *stored},
		{name: "newer CLI upgrades, keeps the rest", stored: stored, cli: "v0.3.0", want: Settings{Version: "v0.3.0", Image: "custom:v0.2.0", LogLevel: "debug", Interval: 5 * time.Minute}, wantNote: true},
		{name: "webhook flags turn it on and keep the rest", stored: stored, cli: "v0.2.0", flags: Flags{Webhook: true, WebhookNodePort: 32292}, want: Settings{Version: "v0.2.0", Image: "custom:v0.2.0", LogLevel: "debug", Interval: 5 * time.Minute, Webhook: true, WebhookNodePort: 32292}},
		{name: "a stored webhook stays without the flag", stored: &Settings{Version: "v0.2.0", LogLevel: "info", Interval: time.Minute, Webhook: true, Notify: "- type: slack\n"}, cli: "v0.2.0", want: Settings{Version: "v0.2.0", LogLevel: "info", Interval: time.Minute, Webhook: true, Notify: "- type: slack\n"}},
		{name: "flags win", stored: stored, cli: "v0.3.0", flags: Flags{Version: "v0.1.5", LogLevel: "info", Interval: time.Minute}, want: Settings{Version: "v0.1.5", Image: "custom:v0.2.0", LogLevel: "info", Interval: time.Minute}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, note := Resolve(tt.flags, tt.stored, tt.cli)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Resolve (-want +got):\n%s", diff)
			}
			if (note != "") != tt.wantNote {
				t.Errorf("note = %q, want a note: %v", note, tt.wantNote)
			}
		})
	}
}
