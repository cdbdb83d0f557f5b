package controller

import (
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	capstanv1 "github.com/capstan-gitops/capstan/api/v1"
)

// TestBuiltinsWithoutPostBuild: a Sync without spec.postBuild gets the
// built-in variables substituted, while shell text ($HOME, ${FOO},
// ${BAR:-x}, $${...}) is applied as written and an object that opts out
// keeps even the built-in references.
func TestBuiltinsWithoutPostBuild(t *testing.T) {
	t.Parallel()
	ns := env.cluster.Namespace(t)
	r := newRepo(t)
	const script = "#!/bin/sh\necho $HOME ${FOO} ${BAR:-x} $${CAPSTAN_TAG} ${UNCLOSED\n"
	hash := r.srv.Commit(t, r.name, "main", map[string]string{
		"apps/app.yaml":       configMap(ns, "app", "image:${CAPSTAN_TAG} ref:${CAPSTAN_REF} short:${CAPSTAN_COMMIT_SHORT} rev:${CAPSTAN_REVISION}"),
		"apps/script.yaml":    configMap(ns, "script", script),
		"apps/opted-out.yaml": configMap(ns, "opted-out", "${CAPSTAN_TAG}", capstanv1.SubstituteAnnotation, capstanv1.SubstituteDisabledValue),
	}, "built-ins")
	r.srv.Tag(t, r.name, "v1.0.0", hash, "release 1.0.0")
	s := r.newSync(t, ns, "tagged", func(s *capstanv1.SyncSpec) {
		s.Path = "apps"
		s.Ref = &capstanv1.GitRef{Tag: "v1.0.0"}
	})
	if s.Spec.PostBuild != nil {
		t.Fatal("the Sync has spec.postBuild")
	}
	rev := "v1.0.0@sha1:" + hash
	waitReady(t, ns, "tagged", rev)
	want := map[string]string{
		"app":       "image:v1.0.0 ref:v1.0.0 short:" + hash[:7] + " rev:" + rev,
		"script":    script,
		"opted-out": "${CAPSTAN_TAG}",
	}
	for name, v := range want {
		if got := configMapValue(t, ns, name); got != v {
			t.Errorf("%s = %q, want %q", name, got, v)
		}
	}
}

// TestTypedVariable: "replicas: ${REPLICAS}" reaches the API server as a
// number; quoted, the same reference is a string, which the server refuses
// for replicas, naming the file, and the previous revision stays.
func TestTypedVariable(t *testing.T) {
	t.Parallel()
	ns := env.cluster.Namespace(t)
	r := newRepo(t)
	dep := func(replicas string) string {
		return strings.Replace(deployment(ns, "web", 1), "replicas: 1", "replicas: "+replicas, 1)
	}
	const port = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: port\ndata:\n  port: \"${PORT}\"\n  debug: \"${DEBUG:=false}\"\n"
	rev1 := r.commit(t, map[string]string{"apps/web.yaml": dep("${REPLICAS}"), "apps/port.yaml": strings.Replace(port, "name: port", "name: port\n  namespace: "+ns, 1)})
	r.newSync(t, ns, "typed", func(s *capstanv1.SyncSpec) {
		s.Path = "apps"
		s.PostBuild = &capstanv1.PostBuild{Substitute: map[string]string{"REPLICAS": "3", "PORT": "8080"}}
	})
	waitReady(t, ns, "typed", rev1)
	d := get(t, deploymentGVK, ns, "web")
	if n, found, err := unstructured.NestedInt64(d.Object, "spec", "replicas"); !found || err != nil || n != 3 {
		t.Errorf("spec.replicas = %v (%v, %v), want the number 3", d.Object["spec"].(map[string]any)["replicas"], found, err)
	}
	cm := get(t, configMapGVK, ns, "port")
	if p, _, _ := unstructured.NestedString(cm.Object, "data", "port"); p != "8080" {
		t.Errorf("data.port = %q, want the string 8080", p)
	}
	if p, _, _ := unstructured.NestedString(cm.Object, "data", "debug"); p != "false" {
		t.Errorf("data.debug = %q, want the string false", p)
	}

	rev2 := r.commit(t, map[string]string{"apps/web.yaml": "# quoted\n" + dep(`"${REPLICAS}"`)})
	requestSync(t, ns, "typed")
	s := waitSync(t, ns, "typed", time.Minute, func(s *capstanv1.Sync) bool {
		c := findCondition(s, capstanv1.ReadyCondition)
		return s.Status.LastAttemptedRevision == rev2 && c != nil && c.Status == "False"
	})
	if msg := readyMessage(s); !strings.Contains(msg, "apps/web.yaml") {
		t.Errorf("refusal %q does not name apps/web.yaml", msg)
	}
	if s.Status.LastAppliedRevision != rev1 {
		t.Errorf("applied %s, want %s to stay", s.Status.LastAppliedRevision, rev1)
	}
	t.Logf("a quoted reference in spec.replicas: %s", readyMessage(s))
}
