package manifests

import (
	"strings"
	"testing"
)

func TestOptionsValidate(t *testing.T) {
	t.Parallel()
	with := func(f func(*Options)) Options {
		o := DefaultOptions("v0.1.0")
		f(&o)
		return o
	}
	tests := []struct {
		name    string
		opts    Options
		wantErr string
	}{
		{name: "defaults", opts: DefaultOptions("v0.1.0")},
		{name: "only version", opts: Options{Version: "v0.1.0"}},
		{name: "pre-release version", opts: DefaultOptions("v0.1.0-3-gabcdef0-dirty")},
		{name: "image with digest", opts: with(func(o *Options) { o.Image = "localhost:5000/capstan@sha256:abc" })},
		{name: "debug log level", opts: with(func(o *Options) { o.LogLevel = "debug" })},
		{name: "custom namespace", opts: with(func(o *Options) { o.Namespace = "gitops" })},
		{name: "empty version", opts: with(func(o *Options) { o.Version = "" }), wantErr: "version is empty"},
		{name: "version not a label value", opts: with(func(o *Options) { o.Version = "v0.1.0+build" }), wantErr: "not a valid label value"},
		{name: "bad log level", opts: with(func(o *Options) { o.LogLevel = "verbose" }), wantErr: `log level "verbose"`},
		{name: "upper-case log level", opts: with(func(o *Options) { o.LogLevel = "INFO" }), wantErr: "log level"},
		{name: "image with space", opts: with(func(o *Options) { o.Image = "ghcr.io/x/y: v1" }), wantErr: "not an image reference"},
		{name: "image with newline", opts: with(func(o *Options) { o.Image = "ghcr.io/x/y:v1\nkind: Secret" }), wantErr: "not an image reference"},
		{name: "image with quote", opts: with(func(o *Options) { o.Image = `ghcr.io/x/y:"v1"` }), wantErr: "not an image reference"},
		{name: "image too long", opts: with(func(o *Options) { o.Image = "a" + strings.Repeat("b", maxImageLength) }), wantErr: "not an image reference"},
		{name: "bad namespace", opts: with(func(o *Options) { o.Namespace = "Capstan_System" }), wantErr: "namespace"},
		{name: "webhook node port", opts: with(func(o *Options) { o.WebhookNodePort = 32292 })},
		{name: "webhook port outside the node port range", opts: with(func(o *Options) { o.WebhookNodePort = 9292 }), wantErr: "webhook node port 9292"},
		{name: "several problems", opts: Options{LogLevel: "loud", Image: " "}, wantErr: "version is empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tt.opts.Validate()
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate() = nil, want an error containing %q", tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Validate() = %q, want it to contain %q", err, tt.wantErr)
			}
		})
	}
}

func TestDefaultOptions(t *testing.T) {
	t.Parallel()
	o := DefaultOptions("v1.2.3")
	if o.Image != "ghcr.io/capstan-gitops/capstan:v1.2.3" {
		t.Errorf("Image = %q", o.Image)
	}
	if o.Namespace != "capstan-system" || o.LogLevel != "info" || o.Version != "v1.2.3" {
		t.Errorf("DefaultOptions = %+v", o)
	}
}
