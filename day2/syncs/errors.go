package syncs

import (
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"

	capstanv1 "github.com/capstan-gitops/capstan/api/v1"
)

// notFound is the API's NotFound error for a Sync, for a list that came
// back empty.
func notFound(namespace, name string) error {
	return apierrors.NewNotFound(schema.GroupResource{Group: capstanv1.GroupVersion.Group, Resource: "syncs"}, namespace+"/"+name)
}
