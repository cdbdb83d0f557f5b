package v1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

const (
	// Group is the API group of the Capstan kinds.
	Group = "capstan.dev"
	// Version is the API version of the kinds in this package.
	Version = "v1"
	// SyncKind is the kind name of Sync.
	SyncKind = "Sync"
	// SyncListKind is the kind name of SyncList.
	SyncListKind = "SyncList"
	// SyncResource is the plural resource name of Sync.
	SyncResource = "syncs"
	// CRDName is the name of the CustomResourceDefinition that serves Sync.
	CRDName = SyncResource + "." + Group
)

// GroupVersion is the group and version of the kinds in this package.
var GroupVersion = schema.GroupVersion{Group: Group, Version: Version}

// SyncGroupVersionKind returns the group, version and kind of Sync.
func SyncGroupVersionKind() schema.GroupVersionKind {
	return GroupVersion.WithKind(SyncKind)
}

// AddToScheme registers Sync and SyncList, and the meta types of the group
// version, in s. Call it explicitly where a scheme is built; nothing in this
// package registers itself.
func AddToScheme(s *runtime.Scheme) error {
	s.AddKnownTypes(GroupVersion, &Sync{}, &SyncList{})
	metav1.AddToGroupVersion(s, GroupVersion)
	return nil
}
