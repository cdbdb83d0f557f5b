package volumes_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/capstan-gitops/capstan/internal/testenv"
	"github.com/capstan-gitops/capstan/internal/volumes"
)

func TestVolume(t *testing.T) {
	t.Parallel()
	claim := &corev1.PersistentVolumeClaim{
		ObjectMeta: metav1.ObjectMeta{Namespace: "db", Name: "data-pg-0", UID: "1234"},
		Spec: corev1.PersistentVolumeClaimSpec{
			AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			Resources:   corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")}},
		},
	}
	pv := volumes.Volume(claim, "node-1")
	if pv.Name != "pvc-1234" || pv.Spec.StorageClassName != volumes.ClassName || pv.Annotations["pv.kubernetes.io/provisioned-by"] != volumes.Provisioner {
		t.Errorf("volume %s of class %q, annotations %v", pv.Name, pv.Spec.StorageClassName, pv.Annotations)
	}
	if got := pv.Spec.Capacity[corev1.ResourceStorage]; got.String() != "1Gi" {
		t.Errorf("capacity %s, want 1Gi", got.String())
	}
	wantRef := &corev1.ObjectReference{APIVersion: "v1", Kind: "PersistentVolumeClaim", Namespace: "db", Name: "data-pg-0", UID: "1234"}
	if diff := cmp.Diff(wantRef, pv.Spec.ClaimRef); diff != "" {
		t.Errorf("claimRef (-want +got):\n%s", diff)
	}
	term := pv.Spec.NodeAffinity.Required.NodeSelectorTerms[0].MatchExpressions[0]
	if term.Key != corev1.LabelHostname || len(term.Values) != 1 || term.Values[0] != "node-1" {
		t.Errorf("node affinity %+v, want the claim's node", term)
	}
	if pv.Spec.HostPath == nil || pv.Spec.HostPath.Path != "/var/lib/rancher/k3s/storage/pvc-1234_db_data-pg-0" {
		t.Errorf("host path %+v", pv.Spec.HostPath)
	}
}

// TestStatefulSetBecomesReady proves, on a real control plane, that a
// StatefulSet whose claim names no StorageClass gets the default one, a
// volume on its pod's node and Bound claims, and becomes Ready, as on k3s.
func TestStatefulSetBecomesReady(t *testing.T) {
	t.Parallel()
	c := testenv.StartCluster(t, testenv.ClusterOptions{})
	cs := c.Clientset(t)
	ctx := t.Context()
	sc, err := cs.StorageV1().StorageClasses().Get(ctx, volumes.ClassName, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("the cluster has no %s StorageClass: %v", volumes.ClassName, err)
	}
	if sc.Annotations["storageclass.kubernetes.io/is-default-class"] != "true" || sc.Provisioner != volumes.Provisioner || *sc.VolumeBindingMode != "WaitForFirstConsumer" {
		t.Errorf("StorageClass %+v is not k3s's default", sc)
	}
	labels := map[string]string{"app": "pg"}
	replicas := int32(2)
	sts := &appsv1.StatefulSet{
		ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "pg"},
		Spec: appsv1.StatefulSetSpec{
			Replicas: &replicas,
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{
					Name: "pg", Image: "postgres:17", VolumeMounts: []corev1.VolumeMount{{Name: "data", MountPath: "/var/lib/postgresql"}},
				}}},
			},
			VolumeClaimTemplates: []corev1.PersistentVolumeClaim{{
				ObjectMeta: metav1.ObjectMeta{Name: "data"},
				Spec: corev1.PersistentVolumeClaimSpec{
					AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
					Resources:   corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")}},
				},
			}},
		},
	}
	if _, err := cs.AppsV1().StatefulSets("default").Create(ctx, sts, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	err = wait.PollUntilContextTimeout(ctx, 250*time.Millisecond, 90*time.Second, true, func(ctx context.Context) (bool, error) {
		got, err := cs.AppsV1().StatefulSets("default").Get(ctx, "pg", metav1.GetOptions{})
		return err == nil && got.Status.ReadyReplicas == replicas, nil
	})
	claims, _ := cs.CoreV1().PersistentVolumeClaims("default").List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatalf("StatefulSet not Ready: %v; claims: %+v", err, claims.Items)
	}
	if len(claims.Items) != 2 {
		t.Fatalf("%d claims, want 2", len(claims.Items))
	}
	for _, claim := range claims.Items {
		if claim.Status.Phase != corev1.ClaimBound || *claim.Spec.StorageClassName != volumes.ClassName {
			t.Errorf("claim %s is %s of class %v", claim.Name, claim.Status.Phase, claim.Spec.StorageClassName)
		}
		pv, err := cs.CoreV1().PersistentVolumes().Get(ctx, claim.Spec.VolumeName, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if node := claim.Annotations[volumes.SelectedNodeAnnotation]; pv.Spec.NodeAffinity.Required.NodeSelectorTerms[0].MatchExpressions[0].Values[0] != node {
			t.Errorf("volume %s is not on the claim's node %s", pv.Name, node)
		}
	}
}
