package controller

import (
	"strings"
	"testing"
)

// TestAPIServerValidatesEnvironmentFields covers the schema of the fields
// for environments: what the API server refuses, and what it takes.
func TestAPIServerValidatesEnvironmentFields(t *testing.T) {
	t.Parallel()
	ns := env.cluster.Namespace(t)
	const url = `"url":"https://example.com/r.git","suspend":true`
	tests := []struct {
		name string
		spec string
		want string // "" means accepted
	}{
		{"semver range", `"ref":{"semver":">=1.0.0 <2.0.0"}`, ""},
		{"semver or", `"ref":{"semver":"^1.0 || ^2.0-rc.0"}`, ""},
		{"semver that does not parse", `"ref":{"semver":"latest"}`, "spec.ref.semver"},
		{"semver with a dangling operator", `"ref":{"semver":">="}`, "spec.ref.semver"},
		{"semver beside branch", `"ref":{"semver":">=1.0.0","branch":"main"}`, "at most one of branch, tag, semver and commit"},
		{"semver beside tag", `"ref":{"semver":">=1.0.0","tag":"v1.0.0"}`, "at most one of branch, tag, semver and commit"},
		{"semver beside commit", `"ref":{"semver":">=1.0.0","commit":"` + strings.Repeat("a", 40) + `"}`, "at most one of branch, tag, semver and commit"},
		{"substitute", `"postBuild":{"substitute":{"TAG":"v1","_x":""},"substituteFrom":[{"kind":"ConfigMap","name":"vars"},{"kind":"Secret","name":"s","optional":true}]}`, ""},
		{"empty substitute key", `"postBuild":{"substitute":{"":"v"}}`, "substitute keys must be variable names"},
		{"substitute key with a dash", `"postBuild":{"substitute":{"A-B":"v"}}`, "substitute keys must be variable names"},
		{"substituteFrom of another kind", `"postBuild":{"substituteFrom":[{"kind":"Pod","name":"p"}]}`, "spec.postBuild.substituteFrom[0].kind"},
		{"substituteFrom without a name", `"postBuild":{"substituteFrom":[{"kind":"Secret","name":""}]}`, "spec.postBuild.substituteFrom[0].name"},
		{"target namespace", `"targetNamespace":"production","targetNamespaceMode":"default"`, ""},
		{"invalid namespace name", `"targetNamespace":"Prod_1"`, "spec.targetNamespace"},
		{"namespace name too long", `"targetNamespace":"` + strings.Repeat("n", 64) + `"`, "spec.targetNamespace"},
		{"unknown namespace mode", `"targetNamespace":"p","targetNamespaceMode":"override"`, "spec.targetNamespaceMode"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			body := `{"apiVersion":"capstan.dev/v1","kind":"Sync","metadata":{"name":"env-` + string(rune('a'+i)) + `","namespace":"` + ns + `"},"spec":{` + url + `,` + tt.spec + `}}`
			err := env.admin.Create(t.Context(), rawSync([]byte(body)))
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("err = %.400v, want a refusal naming %q", err, tt.want)
			}
		})
	}
}
