package v1

import "testing"

func TestHandledRequest(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, handled, token string
		want                 bool
	}{
		{"same token", "2026-01-02T03:04:05.1Z", "2026-01-02T03:04:05.1Z", true},
		{"a later request was handled", "2026-01-02T03:04:05.12Z", "2026-01-02T03:04:05.1Z", true},
		{"an earlier request was handled", "2026-01-02T03:04:05.1Z", "2026-01-02T03:04:05.12Z", false},
		{"nothing handled yet", "", "2026-01-02T03:04:05.1Z", false},
		{"another tool's token", "now please", "2026-01-02T03:04:05.1Z", false},
		{"a token that is no time", "2026-01-02T03:04:05.1Z", "mine", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := &Sync{Status: SyncStatus{LastHandledReconcileAt: tt.handled}}
			if got := s.HandledRequest(tt.token); got != tt.want {
				t.Errorf("HandledRequest(%q) with %q handled = %t, want %t", tt.token, tt.handled, got, tt.want)
			}
			s.Generation = 2
			if s.HandledRequest(tt.token) {
				t.Errorf("HandledRequest(%q) = true for a generation not yet observed", tt.token)
			}
		})
	}
}
