package drill

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/capstan-gitops/capstan/internal/build"
)

// clusterFacts is a cluster that serves the core kinds the tests use, and
// holds the namespaces default and web.
func clusterFacts() facts {
	served := func(namespaced bool, versions ...string) kindInfo {
		info := kindInfo{Namespaced: namespaced, Versions: map[string]bool{}}
		for _, v := range versions {
			info.Versions[v] = true
		}
		return info
	}
	return facts{
		kinds: map[schema.GroupKind]kindInfo{
			{Kind: "Namespace"}:                           served(false, "v1"),
			{Kind: "ConfigMap"}:                           served(true, "v1"),
			{Kind: "Secret"}:                              served(true, "v1"),
			{Kind: "ServiceAccount"}:                      served(true, "v1"),
			{Group: "apps", Kind: "Deployment"}:           served(true, "v1"),
			{Group: "networking.k8s.io", Kind: "Ingress"}: served(true, "v1"),
			{Group: "apiextensions.k8s.io", Kind: "CustomResourceDefinition"}: served(false, "v1"),
		},
		existing: map[string]map[string]bool{
			"Namespace": {"default": true, "web": true},
			"Secret":    {"capstan-system/capstan-git": true},
		},
		health: map[objectID]health{},
	}
}

const (
	backupCR  = "apiVersion: dwk.example.com/v1\nkind: Backup\nmetadata: {name: nightly, namespace: web}\nspec: {keep: 7}\n"
	backupCRD = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: backups.dwk.example.com}
spec:
  group: dwk.example.com
  scope: Namespaced
  names: {kind: Backup, plural: backups}
  versions: [{name: v1, served: true, storage: true}]
`
	apiDeployment = `apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: web}
spec:
  template:
    spec:
      imagePullSecrets: [{name: regcred}]
      containers:
      - name: api
        env: [{name: DB_PASSWORD, valueFrom: {secretKeyRef: {name: api-db, key: password}}}]
`
)

func TestDiagnose(t *testing.T) {
	t.Parallel()
	files := map[objectID][]string{
		{Group: "dwk.example.com", Kind: "Backup", Namespace: "web", Name: "nightly"}: {"clusters/dwk/backups/nightly.yaml"},
		{Group: "apps", Kind: "Deployment", Namespace: "web", Name: "api"}:            {"clusters/dwk/web/api.yaml"},
	}
	root := "capstan-system/capstan-system"
	tests := []struct {
		name     string
		docs     []string
		facts    func(*facts)
		notReady bool
		want     []Problem
	}{
		{
			name: "a custom resource without its CRD",
			docs: []string{backupCR},
			want: []Problem{{Kind: ProblemMissingCRD, Object: "Backup web/nightly", File: "clusters/dwk/backups/nightly.yaml", Sync: root,
				Message: "no CustomResourceDefinition in git defines Backup in dwk.example.com/v1: add the CRD to the repository (the chart or operator that brings it) so that a new cluster gets it first"}},
		},
		{
			name: "the CRD in the same revision",
			docs: []string{backupCRD, backupCR},
		},
		{
			name: "the CRD already served by the cluster",
			docs: []string{backupCR},
			facts: func(f *facts) {
				f.kinds[schema.GroupKind{Group: "dwk.example.com", Kind: "Backup"}] = kindInfo{Namespaced: true, Versions: map[string]bool{"v1": true}}
			},
		},
		{
			name: "a version the cluster does not serve",
			docs: []string{"apiVersion: networking.k8s.io/v1beta1\nkind: Ingress\nmetadata: {name: web, namespace: web}\n"},
			want: []Problem{{Kind: ProblemMissingCRD, Object: "Ingress web/web", Sync: root, Message: "Ingress is not served at networking.k8s.io/v1beta1; the cluster serves v1"}},
		},
		{
			name: "a removed built-in kind",
			docs: []string{"apiVersion: extensions/v1beta1\nkind: PodSecurityPolicy\nmetadata: {name: strict}\n"},
			want: []Problem{{Kind: ProblemMissingCRD, Object: "PodSecurityPolicy strict", Sync: root, Message: "Kubernetes does not serve extensions/v1beta1 PodSecurityPolicy: a removed API version or a misspelt kind"}},
		},
		{
			name: "a namespace nobody creates, reported once",
			docs: []string{"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: ghost}\n", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: b, namespace: ghost}\n"},
			want: []Problem{{Kind: ProblemMissingNamespace, Object: "ConfigMap ghost/a", Sync: root, Message: "namespace ghost is not created by any manifest in git, so nothing can be applied into it"}},
		},
		{
			name: "a namespace git creates",
			docs: []string{"apiVersion: v1\nkind: Namespace\nmetadata: {name: todo}\n", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: todo}\n"},
		},
		{
			name: "Secrets a workload needs and nobody creates",
			docs: []string{apiDeployment},
			want: []Problem{
				{Kind: ProblemMissingSecret, Object: "Deployment web/api", File: "clusters/dwk/web/api.yaml", Sync: root,
					Message: "needs Secret web/api-db (env DB_PASSWORD of container api), which no manifest in git creates: in a real cluster its pods would not start (the simulated nodes start them anyway)"},
				{Kind: ProblemMissingPullSecret, Object: "Deployment web/api", File: "clusters/dwk/web/api.yaml", Sync: root,
					Message: "pulls its images with Secret web/regcred (imagePullSecrets), which no manifest in git creates: a private registry would refuse the pulls (ImagePullBackOff)"},
			},
		},
		{
			name:  "Secrets in git or in the cluster",
			docs:  []string{apiDeployment, "apiVersion: v1\nkind: Secret\nmetadata: {name: api-db, namespace: web}\n"},
			facts: func(f *facts) { f.existing["Secret"]["web/regcred"] = true },
		},
		{
			name:     "an unhealthy object of a Sync that is not Ready",
			docs:     []string{"apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: worker, namespace: web}\n"},
			notReady: true,
			facts: func(f *facts) {
				f.health[objectID{Group: "apps", Kind: "Deployment", Namespace: "web", Name: "worker"}] = health{Status: "InProgress", Message: "Available: 0/1"}
			},
			want: []Problem{{Kind: ProblemUnhealthy, Object: "Deployment web/worker", Sync: root, Message: "never became healthy: InProgress: Available: 0/1"}},
		},
		{
			name: "health of a Ready Sync is not a problem",
			docs: []string{"apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: worker, namespace: web}\n"},
			facts: func(f *facts) {
				f.health[objectID{Group: "apps", Kind: "Deployment", Namespace: "web", Name: "worker"}] = health{Status: "InProgress"}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := clusterFacts()
			if tt.facts != nil {
				tt.facts(&f)
			}
			var objs []*unstructured.Unstructured
			for _, d := range tt.docs {
				objs = append(objs, object(t, d))
			}
			tree := []staticSync{{Namespace: "capstan-system", Name: "capstan-system", Path: "clusters/dwk", Objects: objs}}
			got := diagnose(tree, f, files, map[string]bool{root: tt.notReady})
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("problems (-want +got):\n%s", diff)
			}
		})
	}
}

func TestWhere(t *testing.T) {
	t.Parallel()
	dep := object(t, "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: todo, namespace: todo}\n")
	files := map[objectID][]string{{Group: "apps", Kind: "Deployment", Name: "todo"}: {"bases/todo/deployment.yaml"}}
	tests := []struct {
		name    string
		sources []build.Source
		files   map[objectID][]string
		want    string
	}{
		{"a plain file with its line", []build.Source{{File: "clusters/dwk/web/deployment.yaml", Line: 3}}, files, "clusters/dwk/web/deployment.yaml:3"},
		{"kustomize output found in its base", []build.Source{{File: "clusters/dwk/todo/kustomization.yaml"}}, files, "bases/todo/deployment.yaml"},
		{"kustomize output not found", []build.Source{{File: "clusters/dwk/todo/kustomization.yaml"}}, nil, "clusters/dwk/todo/kustomization.yaml"},
		{"no source", nil, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d := &diagnosis{files: tt.files}
			s := staticSync{Objects: []*unstructured.Unstructured{dep}, Sources: tt.sources}
			if got := d.where(s, 0, idOf(dep)); got != tt.want {
				t.Errorf("where = %q, want %q", got, tt.want)
			}
		})
	}
}
