package volumes

import (
	"context"
	"fmt"
	"path"
	"time"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// What k3s provides, and the annotations the provisioner reads and writes.
const (
	// ClassName is the name of k3s's default StorageClass.
	ClassName = "local-path"
	// Provisioner is the provisioner of ClassName.
	Provisioner = "rancher.io/local-path"
	// SelectedNodeAnnotation is set on a claim by the scheduler once a pod
	// using it is scheduled (WaitForFirstConsumer).
	SelectedNodeAnnotation = "volume.kubernetes.io/selected-node"
	// defaultClassAnnotation marks the default StorageClass.
	defaultClassAnnotation = "storageclass.kubernetes.io/is-default-class"
	// provisionedByAnnotation names the provisioner of a volume.
	provisionedByAnnotation = "pv.kubernetes.io/provisioned-by"
	// storageDir is where k3s's local-path provisioner keeps volumes.
	storageDir = "/var/lib/rancher/k3s/storage"
	// pollInterval is how often the provisioner looks for claims.
	pollInterval = 500 * time.Millisecond
)

// StorageClass returns k3s's default StorageClass.
func StorageClass() *storagev1.StorageClass {
	binding := storagev1.VolumeBindingWaitForFirstConsumer
	reclaim := corev1.PersistentVolumeReclaimDelete
	return &storagev1.StorageClass{
		TypeMeta: metav1.TypeMeta{APIVersion: "storage.k8s.io/v1", Kind: "StorageClass"},
		ObjectMeta: metav1.ObjectMeta{
			Name:        ClassName,
			Annotations: map[string]string{defaultClassAnnotation: "true"},
		},
		Provisioner:       Provisioner,
		VolumeBindingMode: &binding,
		ReclaimPolicy:     &reclaim,
	}
}

// Install creates the StorageClass unless the cluster has it.
func Install(ctx context.Context, c client.Client) error {
	if err := c.Create(ctx, StorageClass()); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("creating StorageClass %s: %w", ClassName, err)
	}
	return nil
}

// Start installs the StorageClass and provisions volumes for its claims
// until stop is called (or ctx ends); stop waits for the provisioner to end.
func Start(ctx context.Context, c client.Client) (stop func(), err error) {
	if err := Install(ctx, c); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(pollInterval)
		defer t.Stop()
		for {
			_ = Provision(ctx, c) // transient failures: the next round retries
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	return func() {
		cancel()
		<-done
	}, nil
}

// Provision creates, once, the volume of every claim of ClassName that
// the scheduler placed on a node and that has none yet.
func Provision(ctx context.Context, c client.Client) error {
	claims := &corev1.PersistentVolumeClaimList{}
	if err := c.List(ctx, claims); err != nil {
		return fmt.Errorf("listing claims: %w", err)
	}
	for i := range claims.Items {
		claim := &claims.Items[i]
		node := claim.Annotations[SelectedNodeAnnotation]
		if node == "" || claim.Spec.VolumeName != "" || claim.Status.Phase != corev1.ClaimPending ||
			claim.Spec.StorageClassName == nil || *claim.Spec.StorageClassName != ClassName || claim.DeletionTimestamp != nil {
			continue
		}
		if err := c.Create(ctx, Volume(claim, node)); err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("creating the volume of claim %s/%s: %w", claim.Namespace, claim.Name, err)
		}
	}
	return nil
}

// Volume returns the PersistentVolume k3s's local-path provisioner would
// create for claim on node: a host directory on that node, pre-bound to
// the claim, as large as the claim asks.
func Volume(claim *corev1.PersistentVolumeClaim, node string) *corev1.PersistentVolume {
	name := "pvc-" + string(claim.UID)
	hostPathType := corev1.HostPathDirectoryOrCreate
	modes := claim.Spec.AccessModes
	if len(modes) == 0 {
		modes = []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce}
	}
	return &corev1.PersistentVolume{
		ObjectMeta: metav1.ObjectMeta{
			Name:        name,
			Annotations: map[string]string{provisionedByAnnotation: Provisioner},
		},
		Spec: corev1.PersistentVolumeSpec{
			Capacity:                      corev1.ResourceList{corev1.ResourceStorage: claim.Spec.Resources.Requests[corev1.ResourceStorage]},
			AccessModes:                   modes,
			PersistentVolumeReclaimPolicy: corev1.PersistentVolumeReclaimDelete,
			StorageClassName:              ClassName,
			VolumeMode:                    claim.Spec.VolumeMode,
			ClaimRef: &corev1.ObjectReference{
				APIVersion: "v1", Kind: "PersistentVolumeClaim",
				Namespace: claim.Namespace, Name: claim.Name, UID: claim.UID,
			},
			PersistentVolumeSource: corev1.PersistentVolumeSource{HostPath: &corev1.HostPathVolumeSource{
				Path: path.Join(storageDir, name+"_"+claim.Namespace+"_"+claim.Name), Type: &hostPathType,
			}},
			NodeAffinity: &corev1.VolumeNodeAffinity{Required: &corev1.NodeSelector{NodeSelectorTerms: []corev1.NodeSelectorTerm{{
				MatchExpressions: []corev1.NodeSelectorRequirement{{Key: corev1.LabelHostname, Operator: corev1.NodeSelectorOpIn, Values: []string{node}}},
			}}}},
		},
	}
}
