package controller

import (
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	capstanv1 "github.com/capstan-gitops/capstan/api/v1"
)

// TestStrictSubstitution: variables from spec, ConfigMaps and Secrets reach
// the objects; an undefined one refuses the revision naming the variable,
// the file and the line, and the previous revision stays applied; a
// Secret's value shows nowhere.
func TestStrictSubstitution(t *testing.T) {
	t.Parallel()
	ns := env.cluster.Namespace(t)
	r := newRepo(t)
	const secret = "hunter2-topsecret-value"
	createSecret(t, ns, "vars", map[string][]byte{"PASSWORD": []byte(secret)})
	createConfigMapVars(t, ns, "env-vars", map[string]string{"COLOR": "blue", "SIZE": "from-configmap"})
	script := configMap(ns, "script", "echo ${HOME} $${x}", capstanv1.SubstituteAnnotation, capstanv1.SubstituteDisabledValue)
	rev1 := r.commit(t, map[string]string{
		"apps/vars.yaml": configMap(ns, "vars", "${COLOR}/${SIZE}/${MODE:=fast}/$${LITERAL}/${CAPSTAN_REF}"),
		"apps/pw.yaml":   configMap(ns, "pw", "${PASSWORD}"),
		"apps/sh.yaml":   script,
	})
	r.newSync(t, ns, "apps", func(s *capstanv1.SyncSpec) {
		s.Path = "apps"
		s.PostBuild = &capstanv1.PostBuild{
			Substitute: map[string]string{"SIZE": "large"},
			SubstituteFrom: []capstanv1.SubstituteReference{
				{Kind: capstanv1.ConfigMapKind, Name: "env-vars"},
				{Kind: capstanv1.SecretKind, Name: "vars"},
				{Kind: capstanv1.ConfigMapKind, Name: "absent", Optional: true},
			},
		}
	})
	waitReady(t, ns, "apps", rev1)
	for name, want := range map[string]string{"vars": "blue/large/fast/${LITERAL}/main", "pw": secret, "script": "echo ${HOME} $${x}"} {
		if got := configMapValue(t, ns, name); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}

	// An undefined variable, on line 8 of the file: refused, nothing changes.
	bad := "# a comment\n" + strings.Replace(configMap(ns, "vars", "${COLOR}"), "\ndata:", "\ndata:\n  other: ${UNDEFINED_THING}\n  x: y", 1)
	rev2 := r.commit(t, map[string]string{"apps/vars.yaml": bad, "apps/pw.yaml": configMap(ns, "pw", "${PASSWORD} changed")})
	requestSync(t, ns, "apps")
	s := waitFailed(t, ns, "apps", capstanv1.BuildFailedReason)
	msg := readyMessage(s)
	if !strings.Contains(msg, "UNDEFINED_THING") || !strings.Contains(msg, "apps/vars.yaml:8") || !strings.Contains(msg, rev2) {
		t.Errorf("message %q does not name the variable, apps/vars.yaml:8 and the revision", msg)
	}
	if s.Status.LastAppliedRevision != rev1 || configMapValue(t, ns, "vars") != "blue/large/fast/${LITERAL}/main" {
		t.Errorf("the previous revision did not stay: applied %s, vars %q", s.Status.LastAppliedRevision, configMapValue(t, ns, "vars"))
	}

	// A Secret value the server refuses (not a valid label) is masked.
	rev3 := r.commit(t, map[string]string{
		"apps/vars.yaml": configMap(ns, "vars", "ok"),
		"apps/pw.yaml":   fmt.Sprintf("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: pw\n  namespace: %s\n  labels:\n    bad: \"${PASSWORD}!\"\n", ns),
	})
	requestSync(t, ns, "apps")
	s = waitSync(t, ns, "apps", 60*time.Second, func(s *capstanv1.Sync) bool {
		return s.Status.LastAttemptedRevision == rev3 && findCondition(s, capstanv1.ReadyCondition).Reason == capstanv1.ApplyFailedReason
	})
	if msg := readyMessage(s); !strings.Contains(msg, "***") {
		t.Errorf("refused apply message %q does not show the masked value", msg)
	}
	assertNowhere(t, ns, secret)
}

func createConfigMapVars(t *testing.T, ns, name string, data map[string]string) {
	t.Helper()
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}, Data: data}
	if err := env.admin.Create(t.Context(), cm); err != nil {
		t.Fatalf("creating configmap: %v", err)
	}
}
