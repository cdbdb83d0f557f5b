package podrefs

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

func TestOf(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		doc     string
		want    []Ref
		wantErr bool
	}{
		{
			name: "every kind of reference, optional ones marked",
			doc: `apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: web}
spec:
  template:
    spec:
      serviceAccountName: api
      imagePullSecrets: [{name: regcred}]
      volumes:
      - {name: tls, secret: {secretName: api-tls}}
      - {name: opt, secret: {secretName: maybe, optional: true}}
      - {name: conf, configMap: {name: api-files}}
      - name: all
        projected:
          sources:
          - secret: {name: projected-secret}
          - configMap: {name: kube-root-ca.crt}
      - {name: scratch, emptyDir: {}}
      initContainers:
      - name: migrate
        envFrom: [{secretRef: {name: db}}]
      containers:
      - name: api
        envFrom: [{configMapRef: {name: api-defaults, optional: true}}]
        env:
        - {name: MODE, valueFrom: {configMapKeyRef: {name: api-env, key: mode}}}
        - {name: OPTIONAL, valueFrom: {secretKeyRef: {name: nope, key: x, optional: true}}}
        - {name: PLAIN, value: hello}
`,
			want: []Ref{
				{Kind: "Secret", Name: "regcred", Via: "imagePullSecrets", Pull: true},
				{Kind: "ServiceAccount", Name: "api", Via: "serviceAccountName"},
				{Kind: "Secret", Name: "api-tls", Via: "volume tls"},
				{Kind: "Secret", Name: "maybe", Via: "volume opt", Optional: true},
				{Kind: "ConfigMap", Name: "api-files", Via: "volume conf"},
				{Kind: "Secret", Name: "projected-secret", Via: "volume all"},
				{Kind: "Secret", Name: "db", Via: "envFrom of container migrate"},
				{Kind: "ConfigMap", Name: "api-env", Via: "env MODE of container api"},
				{Kind: "Secret", Name: "nope", Via: "env OPTIONAL of container api", Optional: true},
				{Kind: "ConfigMap", Name: "api-defaults", Via: "envFrom of container api", Optional: true},
			},
		},
		{
			name: "cron job, default service account left out",
			doc: `apiVersion: batch/v1
kind: CronJob
metadata: {name: backup}
spec:
  jobTemplate:
    spec:
      template:
        spec:
          serviceAccountName: default
          containers:
          - name: b
            envFrom: [{secretRef: {name: s3}}]
`,
			want: []Ref{{Kind: "Secret", Name: "s3", Via: "envFrom of container b"}},
		},
		{
			name: "pod",
			doc:  "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  serviceAccountName: runner\n  containers: [{name: c}]\n",
			want: []Ref{{Kind: "ServiceAccount", Name: "runner", Via: "serviceAccountName"}},
		},
		{
			name: "not a workload",
			doc:  "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {a: b}\n",
		},
		{
			name: "a deployment of another group is not Kubernetes' own",
			doc:  "apiVersion: example.com/v1\nkind: Deployment\nmetadata: {name: d}\nspec: {template: {spec: {serviceAccountName: x}}}\n",
		},
		{
			name:    "a template that is not a pod spec",
			doc:     "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec: {template: {spec: {containers: 3}}}\n",
			wantErr: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			o := &unstructured.Unstructured{}
			if err := yaml.Unmarshal([]byte(tt.doc), &o.Object); err != nil {
				t.Fatal(err)
			}
			spec, err := Spec(o)
			if (err != nil) != tt.wantErr {
				t.Fatalf("Spec: err = %v, want error %v", err, tt.wantErr)
			}
			var got []Ref
			if spec != nil {
				got = Of(spec)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Of (-want +got):\n%s", diff)
			}
		})
	}
}
