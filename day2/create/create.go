// Package create implements `capstan create sync`: it turns flags into a
// Sync manifest, and either prints it for the user to commit under the
// cluster's path (--export) or applies it and waits for its outcome.
package create

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/yaml"

	capstanv1 "github.com/capstan-gitops/capstan/api/v1"
	"github.com/capstan-gitops/capstan/internal/substitute"
)

// SyncOptions are the flags of `capstan create sync`.
type SyncOptions struct {
	Name, Namespace string
	URL             string
	// Exactly one of Branch, Tag, Semver and Commit may be set; none means
	// the branch main.
	Branch, Tag, Semver, Commit string
	Path                        string
	TargetNamespace             string
	// Substitute are KEY=VALUE pairs.
	Substitute []string
	// SubstituteFrom are "configmap/NAME" or "secret/NAME", with an
	// optional "?" suffix for an optional one.
	SubstituteFrom []string
	DependsOn      []string
	// Interval is zero for the default.
	Interval time.Duration
	// Prune is nil for the default (true).
	Prune     *bool
	SecretRef string
}

// Sync builds the Sync the options describe. It checks what the API server
// would refuse less clearly: the name, the ref and the variables.
func Sync(o SyncOptions) (*capstanv1.Sync, error) {
	if o.Name == "" {
		return nil, errors.New("capstan create sync needs a NAME")
	}
	if o.URL == "" {
		return nil, errors.New("--url is required")
	}
	s := &capstanv1.Sync{
		TypeMeta:   metav1.TypeMeta{APIVersion: capstanv1.GroupVersion.String(), Kind: capstanv1.SyncKind},
		ObjectMeta: metav1.ObjectMeta{Name: o.Name, Namespace: o.Namespace},
		Spec: capstanv1.SyncSpec{
			URL: o.URL, Path: o.Path, TargetNamespace: o.TargetNamespace, Prune: o.Prune,
			Interval: metav1.Duration{Duration: o.Interval},
		},
	}
	ref, err := refOf(o)
	if err != nil {
		return nil, err
	}
	s.Spec.Ref = ref
	if o.SecretRef != "" {
		s.Spec.SecretRef = &capstanv1.LocalObjectReference{Name: o.SecretRef}
	}
	for _, d := range o.DependsOn {
		s.Spec.DependsOn = append(s.Spec.DependsOn, capstanv1.LocalObjectReference{Name: d})
	}
	if s.Spec.PostBuild, err = postBuildOf(o); err != nil {
		return nil, err
	}
	return s, nil
}

func refOf(o SyncOptions) (*capstanv1.GitRef, error) {
	ref := capstanv1.GitRef{Branch: o.Branch, Tag: o.Tag, Semver: o.Semver, Commit: o.Commit}
	n := 0
	for _, v := range []string{o.Branch, o.Tag, o.Semver, o.Commit} {
		if v != "" {
			n++
		}
	}
	switch {
	case n > 1:
		return nil, errors.New("give at most one of --branch, --tag, --semver and --commit")
	case n == 0:
		ref.Branch = capstanv1.DefaultBranch
	}
	return &ref, nil
}

func postBuildOf(o SyncOptions) (*capstanv1.PostBuild, error) {
	if len(o.Substitute) == 0 && len(o.SubstituteFrom) == 0 {
		return nil, nil
	}
	pb := &capstanv1.PostBuild{}
	for _, kv := range o.Substitute {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || !substitute.ValidName(k) {
			return nil, fmt.Errorf("--substitute %q: want NAME=VALUE, NAME a letter or '_' then letters, digits or '_'", kv)
		}
		if pb.Substitute == nil {
			pb.Substitute = map[string]string{}
		}
		pb.Substitute[k] = v
	}
	for _, ref := range o.SubstituteFrom {
		kind, name, ok := strings.Cut(ref, "/")
		optional := strings.HasSuffix(name, "?")
		name = strings.TrimSuffix(name, "?")
		var k string
		switch strings.ToLower(kind) {
		case "configmap":
			k = capstanv1.ConfigMapKind
		case "secret":
			k = capstanv1.SecretKind
		}
		if !ok || k == "" || name == "" {
			return nil, fmt.Errorf("--substitute-from %q: want configmap/NAME or secret/NAME (NAME? if it may be missing)", ref)
		}
		pb.SubstituteFrom = append(pb.SubstituteFrom, capstanv1.SubstituteReference{Kind: k, Name: name, Optional: optional})
	}
	return pb, nil
}

// Export writes s as a YAML manifest, without status or creation time.
func Export(w io.Writer, s *capstanv1.Sync) error {
	u, err := runtime.DefaultUnstructuredConverter.ToUnstructured(s)
	if err != nil {
		return fmt.Errorf("encoding the Sync: %w", err)
	}
	delete(u, "status")
	unstructured.RemoveNestedField(u, "metadata", "creationTimestamp")
	b, err := yaml.Marshal(u)
	if err != nil {
		return fmt.Errorf("encoding the Sync: %w", err)
	}
	_, err = fmt.Fprintf(w, "---\n%s", b)
	return err
}
