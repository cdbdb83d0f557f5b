package e2e

import "testing"

// TestDrillBindsClaimsLikeK3s: a StatefulSet whose claims name no
// StorageClass gets k3s's default local-path one, volumes and a Ready
// cluster, with the note that volume data is not restored.
func TestDrillBindsClaimsLikeK3s(t *testing.T) {
	t.Parallel()
	repo := newDrillRepo(t, true, map[string]*string{"clusters/dwk/web/db.yaml": drillFile(statefulSetWithClaims)})
	res := repo.drill(t, "--path", "clusters/dwk", "-o", "json")
	mustSucceed(t, "drill of a StatefulSet with claims", res)
	rep := decodeReport(t, res.stdout)
	if !rep.OK || len(rep.Problems) != 0 || rep.Claims != 2 {
		t.Errorf("ok=%t, %d claims, problems %+v; want ok with 2 claims", rep.OK, rep.Claims, rep.Problems)
	}
}

func claimOfClass(class string) string {
	return "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata:\n  name: data\n  namespace: web\nspec:\n  storageClassName: " + class +
		"\n  accessModes: [ReadWriteOnce]\n  resources:\n    requests:\n      storage: 1Gi\n"
}

const statefulSetWithClaims = `apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: db
  namespace: web
spec:
  replicas: 2
  serviceName: db
  selector:
    matchLabels: {app: db}
  template:
    metadata:
      labels: {app: db}
    spec:
      containers:
      - name: db
        image: postgres:17
        volumeMounts: [{name: data, mountPath: /var/lib/postgresql}]
  volumeClaimTemplates:
  - metadata: {name: data}
    spec:
      accessModes: [ReadWriteOnce]
      resources:
        requests:
          storage: 1Gi
`
