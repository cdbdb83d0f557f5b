package output

import (
	"bytes"
	"strings"
	"testing"
)

func TestWrite(t *testing.T) {
	t.Parallel()
	v := map[string]any{"name": "web", "ready": true}
	tests := []struct {
		format, want, wantErr string
	}{
		{format: JSON, want: "{\n  \"name\": \"web\",\n  \"ready\": true\n}\n"},
		{format: YAML, want: "name: web\nready: true\n"},
		{format: "xml", wantErr: `unknown output format "xml": use text, json or yaml`},
	}
	for _, tt := range tests {
		t.Run(tt.format, func(t *testing.T) {
			t.Parallel()
			var b bytes.Buffer
			err := Write(&b, tt.format, v)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || b.String() != tt.want {
				t.Errorf("Write = %q, %v; want %q", b.String(), err, tt.want)
			}
		})
	}
}

func TestCheckAndIsText(t *testing.T) {
	t.Parallel()
	for _, f := range []string{"", Text, JSON, YAML} {
		if err := Check(f); err != nil {
			t.Errorf("Check(%q) = %v", f, err)
		}
	}
	if Check("table") == nil {
		t.Error("Check(table) accepted an unknown format")
	}
	if !IsText("") || !IsText(Text) || IsText(JSON) {
		t.Error("IsText is wrong")
	}
}
