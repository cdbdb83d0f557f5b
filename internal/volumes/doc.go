// Package volumes makes a simulated cluster provide volumes the way the
// k3d (k3s) clusters Capstan creates do: a default StorageClass named
// local-path (provisioner rancher.io/local-path, WaitForFirstConsumer),
// and a provisioner that creates a PersistentVolume on the node the
// scheduler picked for each claim of that class. The kube-controller-manager's
// volume binder then binds claim and volume, so claims become Bound and
// StatefulSets Ready. The volumes hold no data: the simulated nodes run no
// containers.
package volumes
