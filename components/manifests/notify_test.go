package manifests

import (
	"strings"
	"testing"
)

func TestParseNotify(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name, setting string
		want          int
		wantErr       string
	}{
		{name: "empty", setting: ""},
		{name: "two targets", setting: "- type: github\n  secretRef: {name: gh}\n- type: slack\n  secretRef: {name: slack}\n  events: [failed]\n", want: 2},
		{name: "unknown field", setting: "- type: slack\n  adress: x\n", wantErr: "unknown field"},
		{name: "no type", setting: "- url: https://example.com\n", wantErr: "entry 1 has no type"},
		{name: "not a list", setting: "type: slack\n", wantErr: "notify"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := ParseNotify(tt.setting)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("ParseNotify: %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("ParseNotify error = %v, want %q", err, tt.wantErr)
			case len(got) != tt.want:
				t.Errorf("ParseNotify = %d targets, want %d", len(got), tt.want)
			}
		})
	}
}
