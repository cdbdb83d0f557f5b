package controller

import (
	"fmt"
	"strings"
	"testing"

	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	capstanv1 "github.com/capstan-gitops/capstan/api/v1"
	"github.com/capstan-gitops/capstan/components/manifests"
	"github.com/capstan-gitops/capstan/internal/build"
	"github.com/capstan-gitops/capstan/internal/testenv"
)

// secretCanary is the data of the invalid Secret: it must never be echoed.
const secretCanary = "c4nary-6f1d9e2b-not-base64!"

func hostileCases() []hostileCase {
	files := func(kv ...string) func(string) map[string]string {
		return func(string) map[string]string {
			m := map[string]string{}
			for i := 0; i+1 < len(kv); i += 2 {
				m[kv[i]] = kv[i+1]
			}
			return m
		}
	}
	const k = "apps/k/kustomization.yaml"
	kust := func(body string, more ...string) func(string) map[string]string {
		return files(append([]string{k, body, "apps/k/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: k\ndata: {}\n"}, more...)...)
	}
	buildFail := capstanv1.BuildFailedReason
	applyFail := capstanv1.ApplyFailedReason
	cases := []hostileCase{
		{name: "malformed YAML", bad: files("apps/bad.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: bad\n data: [oops\n"),
			reason: buildFail, stalled: true, msg: []string{"apps/bad.yaml:5:"}},
		{name: "YAML that is not an object", bad: files("apps/list.yaml", "- just\n- a list\n"),
			reason: buildFail, stalled: true, msg: []string{"apps/list.yaml:1:", "not a mapping"}},
		{name: "duplicate object", bad: func(ns string) map[string]string {
			return map[string]string{"apps/one.yaml": configMap(ns, "dup", "1"), "apps/sub/two.yaml": "# two\n" + configMap(ns, "dup", "2")}
		}, reason: buildFail, stalled: true, msg: []string{"apps/sub/two.yaml:2:", "duplicate object", "apps/one.yaml:1"}},
		{name: "symlink to an absolute path", bad: files("apps/passwd.yaml", testenv.Symlink("/etc/passwd")),
			reason: buildFail, stalled: true, msg: []string{"apps/passwd.yaml:", "outside the repository root"}},
		{name: "symlink leaving the repository", bad: files("apps/up.yaml", testenv.Symlink("../../../../../../../../etc/passwd")),
			reason: buildFail, stalled: true, msg: []string{"apps/up.yaml:", "outside the repository root"}},
		{name: "dotdot path in kustomization", bad: kust("resources:\n- cm.yaml\n- ../../../outside\n"),
			reason: buildFail, stalled: true, msg: []string{k + ":3:", "../../../outside", "outside the repository root"}},
		{name: "absolute path in kustomization", bad: kust("resources:\n- cm.yaml\n- /etc/passwd\n"),
			reason: buildFail, stalled: true, msg: []string{k + ":3:", "/etc/passwd", "absolute"}},
		{name: "kustomize remote base", bad: kust("resources:\n- https://github.com/kubernetes-sigs/kustomize//examples/helloWorld?ref=v3.3.1\n"),
			reason: buildFail, stalled: true, msg: []string{k + ":2:", "remote references are not allowed"}},
		{name: "kustomize generator plugin", bad: kust("resources:\n- cm.yaml\ngenerators:\n- plugin.yaml\n",
			"apps/k/plugin.yaml", "apiVersion: someteam.example.com/v1\nkind: Evil\nmetadata:\n  name: evil\n"),
			reason: buildFail, stalled: true, msg: []string{k + ":", "external plugins disabled"}},
		{name: "kustomize exec function", bad: kust("resources:\n- cm.yaml\ntransformers:\n- fn.yaml\n",
			"apps/k/fn.yaml", "apiVersion: example.com/v1\nkind: Evil\nmetadata:\n  name: evil\n  annotations:\n    config.kubernetes.io/function: |\n      exec:\n        path: /bin/sh\n",
		), reason: buildFail, stalled: true, msg: []string{k + ":", "external plugins disabled"}},
		{name: "kustomize base cycle", bad: files(k, "resources:\n- ../k2\n", "apps/k2/kustomization.yaml", "resources:\n- ../k\n"),
			reason: buildFail, stalled: true, msg: []string{"apps/k2/kustomization.yaml:", "kustomization cycle: apps/k -> apps/k2 -> apps/k"}},
		{name: "YAML alias bomb", bad: files("apps/bomb.yaml", aliasBomb(9)),
			reason: buildFail, stalled: true, msg: []string{"apps/bomb.yaml:", "billion laughs"}},
		{name: "file over the size limit", bad: files("apps/big.yaml", bigFile(build.DefaultMaxFileBytes+1)),
			reason: buildFail, stalled: true, msg: []string{"apps/big.yaml:", fmt.Sprintf("file is %d bytes, more than the %d allowed", build.DefaultMaxFileBytes+1, build.DefaultMaxFileBytes)}},
		{name: "more files than the limit", bad: manyFiles(build.DefaultMaxFiles + 1),
			reason: buildFail, stalled: true, msg: []string{"apps/many/", fmt.Sprintf("more than %d files and directories", build.DefaultMaxFiles)}},
		{name: "empty path", noProbe: true, bad: files("apps/a.yaml", testenv.Delete, "apps/README.md", "moved"),
			reason: buildFail, stalled: true, msg: []string{"apps at main@sha1:", "has no manifests", "refusing to prune everything", "allowEmpty"}},
		{name: "unknown kind", bad: func(ns string) map[string]string {
			return map[string]string{"apps/gizmo.yaml": "apiVersion: nothere.capstan.dev/v1\nkind: Gizmo\nmetadata:\n  name: g\n  namespace: " + ns + "\n"}
		}, reason: applyFail, msg: []string{"Gizmo", "apps/gizmo.yaml:1"}},
		{name: "immutable field", good: func(ns string) map[string]string { return map[string]string{"apps/web.yaml": deployment(ns, "web", 1)} },
			bad: func(ns string) map[string]string {
				return map[string]string{"apps/web.yaml": strings.ReplaceAll(deployment(ns, "web", 1), "{app: web}", "{app: web2}")}
			}, reason: applyFail, msg: []string{"Deployment/", "immutable", "apps/web.yaml:1"}},
		{name: "Secret with invalid data", bad: func(ns string) map[string]string {
			return map[string]string{"apps/secret.yaml": "apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\n  namespace: " + ns + "\ndata:\n  token: " + secretCanary + "\n"}
		}, reason: applyFail, msg: []string{"Secret/", "apps/secret.yaml:1"}, secret: secretCanary},
		{name: "commit deleting Capstan's own folder", noProbe: true, accepted: true,
			good: func(string) map[string]string {
				return map[string]string{"apps/capstan-system/components.yaml": componentsYAML()}
			},
			bad: files("apps/capstan-system", testenv.Delete), check: assertProtectedSetStays},
	}
	return append(cases, chartHostileCases()...)
}

// bigFile returns a YAML comment of n bytes.
func bigFile(n int) string {
	return "#" + strings.Repeat("x", n-2) + "\n"
}

// manyFiles returns n one-line files under apps/many.
func manyFiles(n int) func(string) map[string]string {
	return func(string) map[string]string {
		m := make(map[string]string, n)
		for i := range n {
			m[fmt.Sprintf("apps/many/f%05d.yaml", i)] = "# empty\n"
		}
		return m
	}
}

// aliasBomb returns a ConfigMap whose data expands to 9^levels strings.
func aliasBomb(levels int) string {
	var b strings.Builder
	b.WriteString("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: bomb\ndata:\n  a0: &a0 [lol,lol,lol,lol,lol,lol,lol,lol,lol]\n")
	for i := 1; i <= levels; i++ {
		fmt.Fprintf(&b, "  a%d: &a%d [%s]\n", i, i, strings.TrimSuffix(strings.Repeat(fmt.Sprintf("*a%d,", i-1), 9), ","))
	}
	return b.String()
}

// componentsYAML is Capstan's own installation, as bootstrap commits it.
func componentsYAML() string {
	objs, err := manifests.Render(manifests.DefaultOptions("v0.0.0-test"))
	if err != nil {
		panic(err)
	}
	docs := make([]string, 0, len(objs))
	for _, o := range objs {
		data, err := yaml.Marshal(o.Object)
		if err != nil {
			panic(err)
		}
		docs = append(docs, string(data))
	}
	return strings.Join(docs, "---\n")
}

// assertProtectedSetStays checks that Capstan's Namespace, CRD, RBAC,
// ServiceAccount and Deployment survived a commit that deleted them.
func assertProtectedSetStays(t *testing.T, ns string) {
	t.Helper()
	objs, err := manifests.Render(manifests.DefaultOptions("v0.0.0-test"))
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]bool{}
	for _, o := range objs {
		live := get(t, o.GroupVersionKind(), o.GetNamespace(), o.GetName())
		if live == nil || live.GetDeletionTimestamp() != nil {
			t.Errorf("protected %s %s/%s was pruned", o.GetKind(), o.GetNamespace(), o.GetName())
			continue
		}
		// Applied by this Sync, so a prune candidate once deleted from git.
		if l := live.GetLabels(); l[capstanv1.SyncNameLabel] != "hostile" || l[capstanv1.SyncNamespaceLabel] != ns {
			t.Errorf("protected %s %s was not applied by the Sync: labels %v", o.GetKind(), o.GetName(), l)
		}
		kinds[o.GetKind()] = true
	}
	for _, k := range []string{"Namespace", "CustomResourceDefinition", "ClusterRole", "ClusterRoleBinding", "ServiceAccount", "Deployment"} {
		if !kinds[k] {
			t.Errorf("the rendered components have no %s to check", k)
		}
	}
	s := &capstanv1.Sync{}
	if err := env.admin.Get(t.Context(), client.ObjectKey{Namespace: ns, Name: "hostile"}, s); err != nil {
		t.Fatal(err)
	}
	if st := s.Status.LastRun; st == nil || st.Pruned != 0 {
		t.Errorf("last run pruned objects: %+v", st)
	}
}
