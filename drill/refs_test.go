package drill

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/capstan-gitops/capstan/internal/podrefs"
)

func object(t *testing.T, doc string) *unstructured.Unstructured {
	t.Helper()
	u := &unstructured.Unstructured{}
	if err := yaml.Unmarshal([]byte(doc), &u.Object); err != nil {
		t.Fatalf("decoding test object: %v", err)
	}
	return u
}

func TestDependencies(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		doc  string
		want []dependency
	}{
		{
			name: "deployment with every kind of reference",
			doc: `apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: web}
spec:
  template:
    spec:
      serviceAccountName: api
      imagePullSecrets: [{name: regcred}]
      volumes:
      - name: tls
        secret: {secretName: api-tls}
      - name: opt
        secret: {secretName: maybe, optional: true}
      - name: conf
        configMap: {name: api-files}
      - name: all
        projected:
          sources:
          - secret: {name: projected-secret}
          - configMap: {name: kube-root-ca.crt}
      initContainers:
      - name: migrate
        envFrom: [{secretRef: {name: db}}]
      containers:
      - name: api
        env:
        - {name: DB_PASSWORD, valueFrom: {secretKeyRef: {name: db, key: password}}}
        - {name: MODE, valueFrom: {configMapKeyRef: {name: api-env, key: mode}}}
        - {name: OPTIONAL, valueFrom: {secretKeyRef: {name: nope, key: x, optional: true}}}
        - {name: PLAIN, value: hello}
`,
			want: []dependency{
				{Kind: "ConfigMap", Namespace: "web", Name: "api-env", Via: "env MODE of container api"},
				{Kind: "ConfigMap", Namespace: "web", Name: "api-files", Via: "volume conf"},
				{Kind: "Secret", Namespace: "web", Name: "api-tls", Via: "volume tls"},
				{Kind: "Secret", Namespace: "web", Name: "db", Via: "envFrom of container migrate"},
				{Kind: "Secret", Namespace: "web", Name: "projected-secret", Via: "volume all"},
				{Kind: "Secret", Namespace: "web", Name: "regcred", Via: "imagePullSecrets", Pull: true},
				{Kind: "ServiceAccount", Namespace: "web", Name: "api", Via: "serviceAccountName"},
			},
		},
		{
			name: "cronjob pod template",
			doc: `apiVersion: batch/v1
kind: CronJob
metadata: {name: backup, namespace: ops}
spec:
  jobTemplate:
    spec:
      template:
        spec:
          serviceAccountName: default
          containers:
          - name: backup
            envFrom: [{secretRef: {name: s3}}]
`,
			want: []dependency{{Kind: "Secret", Namespace: "ops", Name: "s3", Via: "envFrom of container backup"}},
		},
		{
			name: "not a workload",
			doc:  "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata: {a: b}\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			o := object(t, tt.doc)
			spec, err := podrefs.Spec(o)
			if err != nil {
				t.Fatal(err)
			}
			var got []dependency
			if spec != nil {
				got = dependencies(o.GetNamespace(), spec)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("dependencies (-want +got):\n%s", diff)
			}
		})
	}
}
