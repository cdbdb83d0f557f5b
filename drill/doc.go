// Package drill rehearses a disaster recovery: it rebuilds a cluster from a
// cluster-config repository in a throwaway simulated cluster and reports
// whether, how fast and why not.
//
// A drill clones the repository (it never pushes), creates a kwok cluster
// from local control-plane binaries, shaped like a k3d cluster (k3s's
// default local-path StorageClass, whose claims get volumes on their pods'
// nodes: see internal/volumes), installs the controller components
// committed under <path>/capstan-system (or this CLI's own when the
// repository was never bootstrapped), runs the controller in this process
// with its ServiceAccount's token, and waits until every Sync is Ready. It
// then diagnoses what kept the rest from rebuilding, comparing what git
// declares with what the cluster holds: files a kustomization lists that
// git does not hold (and the .gitignore that kept them out), custom
// resources without their CRD, namespaces nobody creates, Secrets,
// ConfigMaps and ServiceAccounts that workloads need and git does not
// hold, claims of StorageClasses nothing provides (found in git at once,
// not at the timeout), and objects whose health never passed. The cluster
// is deleted in every case. Data in volumes is never restored; the report
// says so when the rebuilt cluster has claims.
//
// Planning and rendering are pure (diagnose, assemble, Print); Run holds
// the effects.
package drill
