//go:build bench

package bench

import (
	"fmt"
	"path"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/yaml"
)

// kind is one of the kinds of the generated mix.
type kind string

const (
	kindNamespace      kind = "Namespace"
	kindConfigMap      kind = "ConfigMap"
	kindService        kind = "Service"
	kindServiceAccount kind = "ServiceAccount"
	kindDeployment     kind = "Deployment"
)

// kinds lists the kinds of the mix, Namespaces first.
func kinds() []kind {
	return []kind{kindNamespace, kindConfigMap, kindService, kindServiceAccount, kindDeployment}
}

// gvr returns the resource of the kind.
func (k kind) gvr() schema.GroupVersionResource {
	if k == kindDeployment {
		return schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}
	}
	return schema.GroupVersionResource{Version: "v1", Resource: strings.ToLower(string(k)) + "s"}
}

// ref identifies one generated object.
type ref struct {
	Kind            kind
	Namespace, Name string
}

func (r ref) String() string { return string(r.Kind) + "/" + r.Namespace + "/" + r.Name }

// item is one generated object and the file that holds it.
type item struct {
	ref
	file string
	app  int // index of its app; -1 for a Namespace
}

// clusterIPApps is how many apps get a ClusterIP Service: the test
// cluster's service range (a /24) holds 253 addresses, shared by the five
// bare-client runs on one cluster, so the apps beyond it (at N = 10 000)
// get headless Services only.
const clusterIPApps = 50

// workload is a deterministic mix of n objects: n/100 Namespaces (at least
// one), n/20 apps each with a Deployment of 2 replicas, 2 Services and 2
// ServiceAccounts, and ConfigMaps spread over the apps for the rest. Apps
// are spread over the Namespaces; each Namespace is a directory with a
// namespace.yaml and one multi-document file per app.
type workload struct {
	prefix  string
	items   []item
	gen     []int
	removed []bool
}

// newWorkload generates n objects whose Namespaces start with prefix.
func newWorkload(n int, prefix string) *workload {
	nsCount := max(1, n/100)
	apps := max(1, n/20)
	cms := n - nsCount - 5*apps
	if cms < 0 {
		panic(fmt.Sprintf("bench: %d objects are too few for %d apps", n, apps))
	}
	w := &workload{prefix: prefix}
	nsName := func(i int) string { return fmt.Sprintf("%s-ns-%03d", prefix, i) }
	for i := range nsCount {
		w.add(item{ref: ref{Kind: kindNamespace, Name: nsName(i)}, file: nsName(i) + "/namespace.yaml", app: -1})
	}
	for a := range apps {
		ns := nsName(a % nsCount)
		app := fmt.Sprintf("app-%04d", a)
		file := ns + "/" + app + ".yaml"
		add := func(k kind, name string) {
			w.add(item{ref: ref{Kind: k, Namespace: ns, Name: name}, file: file, app: a})
		}
		add(kindServiceAccount, app)
		add(kindServiceAccount, app+"-jobs")
		add(kindService, app)
		add(kindService, app+"-headless")
		add(kindDeployment, app)
		for c := a; c < cms; c += apps {
			add(kindConfigMap, fmt.Sprintf("%s-config-%02d", app, c/apps))
		}
	}
	return w
}

func (w *workload) add(it item) {
	w.items = append(w.items, it)
	w.gen = append(w.gen, 1)
	w.removed = append(w.removed, false)
}

// live returns the objects not removed.
func (w *workload) live() []item {
	var out []item
	for i, it := range w.items {
		if !w.removed[i] {
			out = append(out, it)
		}
	}
	return out
}

// change bumps the generation of every every-th live object that is not a
// Namespace, spread evenly, and returns them.
func (w *workload) change(every int) []item {
	return w.pick(every, func(i int) { w.gen[i]++ })
}

// remove removes every every-th live object that is not a Namespace.
func (w *workload) remove(every int) []item {
	return w.pick(every, func(i int) { w.removed[i] = true })
}

func (w *workload) pick(every int, do func(int)) []item {
	var out []item
	n := 0
	for i, it := range w.items {
		if w.removed[i] || it.Kind == kindNamespace {
			continue
		}
		if n%every == every/2 {
			do(i)
			out = append(out, it)
		}
		n++
	}
	return out
}

// files renders the live objects as YAML files below base.
func (w *workload) files(base string) (map[string]string, error) {
	docs := map[string][]string{}
	var order []string
	for i, it := range w.items {
		p := path.Join(base, it.file)
		if _, ok := docs[p]; !ok {
			order = append(order, p)
			docs[p] = nil
		}
		if w.removed[i] {
			continue
		}
		b, err := yaml.Marshal(w.object(i).Object)
		if err != nil {
			return nil, fmt.Errorf("encoding %s: %w", it.ref, err)
		}
		docs[p] = append(docs[p], string(b))
	}
	out := make(map[string]string, len(order))
	for _, p := range order {
		// A file whose objects were all removed stays, empty: a commit
		// passes only the files it changes.
		out[p] = strings.Join(docs[p], "---\n")
	}
	return out, nil
}

// objects returns the live objects with extra labels, for the bare client.
func (w *workload) objects(labels map[string]string) []*unstructured.Unstructured {
	var out []*unstructured.Unstructured
	for i := range w.items {
		if w.removed[i] {
			continue
		}
		o := w.object(i)
		l := o.GetLabels()
		for k, v := range labels {
			l[k] = v
		}
		o.SetLabels(l)
		out = append(out, o)
	}
	return out
}

// object builds item i at its current generation.
func (w *workload) object(i int) *unstructured.Unstructured {
	it := w.items[i]
	meta := map[string]any{"name": it.Name, "labels": map[string]any{"bench.capstan.dev/app": appLabel(it)}}
	if it.Namespace != "" {
		meta["namespace"] = it.Namespace
	}
	if g := w.gen[i]; g > 1 {
		meta["annotations"] = map[string]any{"bench.capstan.dev/generation": fmt.Sprint(g)}
	}
	o := map[string]any{"apiVersion": it.Kind.gvr().GroupVersion().String(), "kind": string(it.Kind), "metadata": meta}
	switch it.Kind {
	case kindConfigMap:
		o["data"] = configData(it.Name, w.gen[i])
	case kindService:
		o["spec"] = serviceSpec(it)
	case kindDeployment:
		o["spec"] = deploymentSpec(it)
	}
	return &unstructured.Unstructured{Object: o}
}

func appLabel(it item) string {
	if it.app < 0 {
		return "none"
	}
	return fmt.Sprintf("app-%04d", it.app)
}

func configData(name string, gen int) map[string]any {
	return map[string]any{
		"name":       name,
		"generation": fmt.Sprint(gen),
		"settings.yaml": fmt.Sprintf("log:\n  level: info\n  format: json\nlisten: \":8080\"\nupstream: http://%s.example.invalid\nretries: %d\n",
			name, 3+gen),
	}
}

func serviceSpec(it item) map[string]any {
	spec := map[string]any{
		"selector": map[string]any{"bench.capstan.dev/app": appLabel(it)},
		"ports":    []any{map[string]any{"name": "http", "port": int64(80), "targetPort": int64(8080)}},
	}
	if strings.HasSuffix(it.Name, "-headless") || it.app >= clusterIPApps {
		spec["clusterIP"] = "None"
	}
	return spec
}

func deploymentSpec(it item) map[string]any {
	labels := map[string]any{"bench.capstan.dev/app": appLabel(it)}
	return map[string]any{
		"replicas": int64(2),
		"selector": map[string]any{"matchLabels": labels},
		"template": map[string]any{
			"metadata": map[string]any{"labels": labels},
			"spec": map[string]any{
				"serviceAccountName": it.Name,
				"containers": []any{map[string]any{
					"name":      "app",
					"image":     "registry.invalid/bench/app:1",
					"ports":     []any{map[string]any{"containerPort": int64(8080)}},
					"envFrom":   []any{map[string]any{"configMapRef": map[string]any{"name": it.Name + "-config-00", "optional": true}}},
					"resources": map[string]any{"requests": map[string]any{"cpu": "10m", "memory": "16Mi"}},
				}},
			},
		},
	}
}
