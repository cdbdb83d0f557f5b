// Package postbuild gathers a Sync's post-build variables (spec.postBuild
// and the built-in CAPSTAN_* ones) and substitutes them into its built
// objects. It is shared by the controller and `capstan diff`, so both render
// the same objects. Values read from Secrets are remembered so that they can
// be masked in anything shown to people.
//
// A Sync with spec.postBuild gets strict substitution of all its variables.
// A Sync without it gets the built-in variables only: references to them
// are replaced, and every other "${...}" and "$${...}" text is left as it
// is, so that repositories written for shells keep their meaning.
package postbuild

import (
	"context"
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	capstanv1 "github.com/capstan-gitops/capstan/api/v1"
	"github.com/capstan-gitops/capstan/internal/build"
	"github.com/capstan-gitops/capstan/internal/git"
	"github.com/capstan-gitops/capstan/internal/substitute"
)

// Variables are the values substituted into one revision's objects.
type Variables struct {
	values map[string]string
	// builtinsOnly is set for a Sync without spec.postBuild.
	builtinsOnly bool
	// secrets are the values that came from Secrets, longest first.
	secrets []string
}

// minMasked is the length from which a Secret's value is masked in text:
// shorter values ("1", "on") would mask unrelated text and reveal little.
const minMasked = 4

// Mask is what a Secret's value is replaced with in text shown to people.
const Mask = "***"

// Builtins returns the built-in variables of a revision ("v1.2.0@sha1:…")
// and its tag ("" unless the ref is a tag or a semver range).
func Builtins(revision, tag string) map[string]string {
	rev := git.Revision(revision)
	hash := rev.Hash()
	return map[string]string{
		capstanv1.VarRevision:    revision,
		capstanv1.VarCommit:      hash,
		capstanv1.VarCommitShort: hash[:min(7, len(hash))],
		capstanv1.VarRef:         rev.Name(),
		capstanv1.VarTag:         tag,
	}
}

// Read gathers the variables of s for a revision: spec.postBuild's
// substituteFrom in order, then substitute, then the built-ins, each
// winning over what came before. A ConfigMap or Secret that is missing and
// not optional is an error. Without spec.postBuild, the variables are the
// built-ins alone and substitute only references to them.
func Read(ctx context.Context, reader client.Reader, s *capstanv1.Sync, revision, tag string) (Variables, error) {
	v := Variables{values: map[string]string{}, builtinsOnly: s.Spec.PostBuild == nil}
	if pb := s.Spec.PostBuild; pb != nil {
		for _, ref := range pb.SubstituteFrom {
			if err := v.readFrom(ctx, reader, s.Namespace, ref); err != nil {
				return Variables{}, err
			}
		}
		for k, val := range pb.Substitute {
			v.values[k] = val
		}
	}
	for k, val := range Builtins(revision, tag) {
		v.values[k] = val
	}
	sort.Slice(v.secrets, func(i, j int) bool { return len(v.secrets[i]) > len(v.secrets[j]) })
	return v, nil
}

func (v *Variables) readFrom(ctx context.Context, reader client.Reader, ns string, ref capstanv1.SubstituteReference) error {
	key := client.ObjectKey{Namespace: ns, Name: ref.Name}
	data := map[string]string{}
	var err error
	switch ref.Kind {
	case capstanv1.SecretKind:
		secret := &corev1.Secret{}
		if err = reader.Get(ctx, key, secret); err == nil {
			for k, b := range secret.Data {
				data[k] = string(b)
				if len(b) >= minMasked {
					v.secrets = append(v.secrets, string(b))
				}
			}
		}
	case capstanv1.ConfigMapKind:
		cm := &corev1.ConfigMap{}
		if err = reader.Get(ctx, key, cm); err == nil {
			data = cm.Data
		}
	default:
		return fmt.Errorf("spec.postBuild.substituteFrom: unknown kind %q", ref.Kind)
	}
	switch {
	case apierrors.IsNotFound(err) && ref.Optional:
		return nil
	case apierrors.IsNotFound(err):
		return fmt.Errorf("%s %s of spec.postBuild.substituteFrom not found (set optional: true if it may be missing)", ref.Kind, key)
	case err != nil:
		return fmt.Errorf("reading %s %s of spec.postBuild.substituteFrom: %w", ref.Kind, key, err)
	}
	for k, val := range data {
		if substitute.ValidName(k) {
			v.values[k] = val
		}
	}
	return nil
}

// ObjectError is a substitution failure in one object.
type ObjectError struct {
	// Index of the object in the list given to Substitute.
	Index int
	// Err is a *substitute.UndefinedError or a *substitute.SyntaxError.
	Err error
}

func (e *ObjectError) Error() string { return e.Err.Error() }
func (e *ObjectError) Unwrap() error { return e.Err }

// IsBuiltin reports whether name is a built-in variable. Their values are
// always strings: a short commit hash of digits or a tag like "1.0" stays
// text.
func IsBuiltin(name string) bool {
	switch name {
	case capstanv1.VarRevision, capstanv1.VarCommit, capstanv1.VarCommitShort, capstanv1.VarRef, capstanv1.VarTag:
		return true
	}
	return false
}

// Substitute returns objs with the variables substituted, except in objects
// annotated capstan.dev/substitute: disabled, which are returned as they
// are. sources[i] is where objs[i] is defined: a reference written unquoted
// as a whole YAML value there takes its value's YAML type (number or
// boolean), unless it is a built-in variable. objs are not changed.
func (v Variables) Substitute(objs []*unstructured.Unstructured, sources []build.Source) ([]*unstructured.Unstructured, error) {
	out := make([]*unstructured.Unstructured, len(objs))
	for i, o := range objs {
		if o.GetAnnotations()[capstanv1.SubstituteAnnotation] == capstanv1.SubstituteDisabledValue {
			out[i] = o
			continue
		}
		opts := substitute.Options{Vars: v.values, OnlyDefined: v.builtinsOnly, Text: IsBuiltin}
		if i < len(sources) {
			opts.Typed = sources[i].Typed
		}
		m, err := substitute.Object(o.Object, opts)
		if err != nil {
			return nil, &ObjectError{Index: i, Err: err}
		}
		out[i] = &unstructured.Unstructured{Object: m}
	}
	return out, nil
}

// MaskText replaces the values that came from Secrets in s.
func (v Variables) MaskText(s string) string {
	for _, secret := range v.secrets {
		s = strings.ReplaceAll(s, secret, Mask)
	}
	return s
}

// Secrets returns the values that came from Secrets (of at least four
// bytes), for masking elsewhere.
func (v Variables) Secrets() []string { return v.secrets }
