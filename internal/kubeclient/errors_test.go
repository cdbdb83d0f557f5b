package kubeclient

import (
	"errors"
	"net/url"
	"strings"
	"syscall"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

func TestExplain(t *testing.T) {
	t.Parallel()
	key := client.ObjectKey{Namespace: "capstan-system", Name: "web"}
	syncs := schema.GroupResource{Group: "capstan.dev", Resource: "syncs"}
	tests := []struct {
		name     string
		err      error
		key      client.ObjectKey
		is       error
		wantMsg  string
		wantHint string
	}{
		{name: "no sync API", err: &apimeta.NoKindMatchError{GroupKind: schema.GroupKind{Group: "capstan.dev", Kind: "Sync"}},
			is: ErrNotInstalled, wantMsg: "capstan is not installed here: the cluster serves no syncs.capstan.dev API", wantHint: "run capstan bootstrap"},
		{name: "no such sync", err: apierrors.NewNotFound(syncs, "web"), key: key,
			is: ErrSyncNotFound, wantMsg: "sync not found: capstan-system/web", wantHint: "capstan status -A"},
		{name: "connection refused", err: &url.Error{Op: "Get", URL: "https://127.0.0.1:1/apis", Err: syscall.ECONNREFUSED},
			is: ErrUnreachable, wantMsg: "unreachable", wantHint: "is the cluster running?"},
		{name: "forbidden", err: apierrors.NewForbidden(syncs, "web", errors.New("no")), key: key,
			wantMsg: "reading sync: syncs.capstan.dev \"web\" is forbidden: no"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := Explain(tt.err, "reading sync", tt.key)
			if err == nil || !strings.Contains(err.Error(), tt.wantMsg) {
				t.Fatalf("Explain = %v, want %q", err, tt.wantMsg)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("Explain = %v, not %v", err, tt.is)
			}
			var e *Error
			switch {
			case tt.wantHint == "" && errors.As(err, &e):
				t.Errorf("Explain = %v with hint %q, want none", err, e.Hint())
			case tt.wantHint != "" && (!errors.As(err, &e) || !strings.Contains(e.Hint(), tt.wantHint)):
				t.Errorf("Explain = %v, want hint %q", err, tt.wantHint)
			}
		})
	}
	if Explain(nil, "x", key) != nil {
		t.Error("Explain(nil) is not nil")
	}
}
