package controller

import (
	"errors"
	"fmt"
	"strings"

	ssaerrors "github.com/fluxcd/pkg/ssa/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/capstan-gitops/capstan/internal/apply"
	"github.com/capstan-gitops/capstan/internal/build"
)

// locate prefixes an apply failure with the file and line that define the
// object the API server refused ("apps/web.yaml:1: Deployment/ns/web
// dry-run failed: …"), as build failures name theirs, so that the message
// says what to fix in git. objs and sources are parallel, as
// build.BuildSources returns them; err is returned as is when no object of
// objs is to blame.
func locate(err error, objs []*unstructured.Unstructured, sources []build.Source) error {
	if src, ok := originOf(err, objs, sources); ok {
		return fmt.Errorf("%s: %w", src, err)
	}
	return err
}

// originOf finds the source of the object err is about: the object of a
// failed dry run, else the first object whose "Kind/namespace/name" the
// message names.
func originOf(err error, objs []*unstructured.Unstructured, sources []build.Source) (build.Source, bool) {
	if len(objs) != len(sources) {
		return build.Source{}, false
	}
	if dry, ok := errors.AsType[*ssaerrors.DryRunErr](err); ok && dry.InvolvedObject() != nil {
		want := apply.RefOf(dry.InvolvedObject())
		for i, o := range objs {
			if sameObject(apply.RefOf(o), want) {
				return sources[i], true
			}
		}
	}
	msg := err.Error()
	for i, o := range objs {
		if strings.Contains(msg, apply.RefOf(o).String()+" ") {
			return sources[i], true
		}
	}
	return build.Source{}, false
}

// sameObject compares references regardless of API version.
func sameObject(a, b apply.Ref) bool {
	return a.Group == b.Group && a.Kind == b.Kind && a.Namespace == b.Namespace && a.Name == b.Name
}
