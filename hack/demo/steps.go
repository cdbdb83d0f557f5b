package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/capstan-gitops/capstan/clusters/kwok"
)

// encryptSecret makes an age key and a Secret encrypted for it, to commit.
func (d *demo) encryptSecret(context.Context) error {
	d.out.title("Encrypt a Secret for git with SOPS and age",
		"A database password must survive the disaster too, so it goes into git, encrypted. The demo makes a new\n"+
			"age key (as `age-keygen -o age.key` does) and encrypts the Secret for its public key (as\n"+
			"`capstan secret create "+secretName+" -n "+secretNamespace+" --from-literal "+secretKey+"=… --encrypt --age age1…` does).")
	start := time.Now()
	extra, err := d.sealTheSecret()
	if err != nil {
		return err
	}
	d.extra = extra
	took := time.Since(start)
	d.phases = append(d.phases, phase{"make an age key, encrypt a Secret", took})
	d.out.done(fmt.Sprintf("key %s (public key %s); %s/%s holds only ciphertext", d.keyFile, d.secret.recipient, d.opts.path, secretFile), took)
	d.out.note("The key file is the one thing besides git a rebuild needs: keep a copy outside the cluster.")
	return nil
}

// serveRepository puts examples/dwk into a new repository on a local git
// server.
func (d *demo) serveRepository(ctx context.Context) error {
	d.out.title("Put the cluster's configuration in git",
		"Capstan's source of truth is a git repository. The demo pushes a copy of examples/dwk to a git server\n"+
			"on 127.0.0.1 that asks for a password, as a real git host does.")
	start := time.Now()
	srv, err := serveGit(filepath.Join(d.work, "git"), "dwk", d.gitLog)
	if err != nil {
		return err
	}
	d.git = srv
	sha, err := srv.pushDirectory(ctx, d.opts.examples, filepath.Join(d.work, "push"), d.extra)
	if err != nil {
		return fmt.Errorf("pushing %s: %w", d.opts.examples, err)
	}
	took := time.Since(start)
	d.phases = append(d.phases, phase{"serve the repository", took})
	d.out.done(fmt.Sprintf("%s, branch main at %s", srv.URL, sha[:7]), took)
	dirs, err := subdirectories(filepath.Join(d.opts.examples, filepath.FromSlash(d.opts.path)))
	if err != nil {
		return err
	}
	d.out.note("%s/ holds %s", d.opts.path, strings.Join(dirs, ", "))
	return nil
}

// bootstrapFirst creates the cluster and installs Capstan with one command.
func (d *demo) bootstrapFirst(ctx context.Context) error {
	d.out.title("Bootstrap a new cluster from the repository",
		"One command creates the cluster, commits Capstan's own manifests to "+d.opts.path+"/capstan-system/,\n"+
			"installs the controller from that very commit and waits until the cluster runs what git declares.")
	d.out.command(strings.Join(append([]string{"capstan"}, d.bootstrapArgs()...), " "))
	d.out.note("(the password is in CAPSTAN_GIT_PASSWORD; bootstrap keeps it in the Secret capstan-system/capstan-git, never in git;\n" +
		"   the age key goes to the Secret capstan-system/capstan-sops, from which the controller decrypts)")
	d.out.note("kwok simulates nodes and pods, so no container runs here: the demo runs `capstan controller` as a\n" +
		"   process beside the cluster, with the capstan-controller ServiceAccount's token. On a real cluster\n" +
		"   the Deployment capstan-system/capstan-controller runs it.")
	start := time.Now()
	if err := d.runBootstrap(ctx); err != nil {
		return err
	}
	took := time.Since(start)
	d.phases = append(d.phases, phase{"first bootstrap (create the cluster, commit, install, sync)", took})
	head, err := d.git.head(ctx)
	if err != nil {
		return err
	}
	d.pushed = head
	d.out.done(fmt.Sprintf("cluster %s Ready; bootstrap pushed %s with %s/capstan-system/", d.kubeContext(), head[:7], d.opts.path), took)
	return nil
}

// showStatus shows the Syncs and lists what they applied.
func (d *demo) showStatus(ctx context.Context) error {
	d.out.title("Look at the cluster: everything Ready",
		"`capstan status` lists the Syncs; the root Sync capstan-system applies "+d.opts.path+", Capstan included.")
	d.out.command("capstan status -A")
	if err := d.capstan(ctx, "status", "-A"); err != nil {
		return err
	}
	snap, err := d.snapshot(ctx)
	if err != nil {
		return err
	}
	d.results.First = snap
	if len(snap.Missing) > 0 {
		return fmt.Errorf("objects Capstan applied are missing from the cluster: %s", strings.Join(snap.Missing, ", "))
	}
	if snap.Secret != d.secret.digest {
		return fmt.Errorf("the Secret %s/%s does not hold the value encrypted into git", secretNamespace, secretName)
	}
	d.out.note("Secret %s/%s holds the decrypted value (%s…), which git holds only encrypted", secretNamespace, secretName, snap.Secret[:15])
	d.out.note("%d objects applied from git, every one present in the cluster:", len(snap.Objects))
	for _, o := range snap.Objects {
		d.out.note("  · %s", o)
	}
	return nil
}

// loseCluster deletes the whole cluster, as a disaster would.
func (d *demo) loseCluster(ctx context.Context) error {
	d.out.title("Disaster: the cluster is gone",
		"The demo deletes the whole cluster: etcd's data, the nodes, the workloads and Capstan itself.\n"+
			"Only the git repository is left.")
	start := time.Now()
	if err := d.stopSidecar(); err != nil {
		return err
	}
	p, err := kwok.New(kwok.Options{Name: d.opts.cluster, WorkDir: d.state, BinDir: d.opts.kubeBin})
	if err != nil {
		return err
	}
	if err := p.Delete(ctx); err != nil {
		return err
	}
	took := time.Since(start)
	d.phases = append(d.phases, phase{"delete the cluster", took})
	d.out.done("cluster "+d.kubeContext()+" deleted", took)
	return nil
}

// rebuild runs the very same bootstrap command against a new cluster.
func (d *demo) rebuild(ctx context.Context) error {
	d.out.title("Recover: run the very same command",
		"Everything the cluster held is in git, Capstan included, so the same bootstrap creates a new cluster\n"+
			"and brings it back to the same state. This time it has nothing to commit.")
	d.out.command(strings.Join(append([]string{"capstan"}, d.bootstrapArgs()...), " "))
	start := time.Now()
	if err := d.runBootstrap(ctx); err != nil {
		return err
	}
	took := time.Since(start)
	d.phases = append(d.phases, phase{"rebuild from git (a new cluster, install, sync)", took})
	d.out.done("the new cluster "+d.kubeContext()+" is Ready", took)
	return nil
}

// compare checks that the rebuilt cluster holds what the first held and
// that the repository did not change.
func (d *demo) compare(ctx context.Context) error {
	d.out.title("Compare the rebuilt cluster with the first",
		"Same objects, every Sync at the same commit, the Secret's value back, and no new commit: the repository\n"+
			"and the key file were enough.")
	snap, err := d.snapshot(ctx)
	if err != nil {
		return err
	}
	head, err := d.git.head(ctx)
	if err != nil {
		return err
	}
	d.results.Rebuilt, d.results.Pushed, d.results.HeadAfterRebuild = snap, d.pushed, head
	if err := d.writeObjects(); err != nil {
		return err
	}
	return d.verdict(snap, head)
}

// verdict prints the machine-checkable result lines, or why they fail.
func (d *demo) verdict(rebuilt snapshot, head string) error {
	first := d.results.First
	onlyFirst, onlyRebuilt := difference(first.Objects, rebuilt.Objects)
	if len(onlyFirst)+len(onlyRebuilt)+len(rebuilt.Missing) > 0 {
		d.out.note("rebuilt: DIFFERENT\n   only in the first cluster: %v\n   only in the rebuilt one: %v\n   missing: %v", onlyFirst, onlyRebuilt, rebuilt.Missing)
		return fmt.Errorf("the rebuilt cluster differs from the first")
	}
	if !slices.Equal(first.Syncs, rebuilt.Syncs) {
		d.out.note("syncs: DIFFERENT\n   first: %v\n   rebuilt: %v", first.Syncs, rebuilt.Syncs)
		return fmt.Errorf("the rebuilt cluster's Syncs are not at the first cluster's revisions")
	}
	if rebuilt.Secret != d.results.SecretDigest {
		d.out.note("secret: NOT RESTORED (the rebuilt cluster's %s/%s does not hold the value encrypted into git)", secretNamespace, secretName)
		return fmt.Errorf("the rebuild did not restore the Secret %s/%s", secretNamespace, secretName)
	}
	d.out.note("rebuilt: identical (%d objects)", len(rebuilt.Objects))
	d.out.note("Secret %s/%s restored from git with the same key file: its value matches (%s…)", secretNamespace, secretName, rebuilt.Secret[:15])
	for _, s := range rebuilt.Syncs {
		d.out.note("Sync %s in both clusters", s)
	}
	if head != d.pushed {
		d.out.note("commits: the rebuild moved main from %s to %s", d.pushed[:7], head[:7])
		return fmt.Errorf("the rebuild pushed a commit")
	}
	d.out.note("no new commit: main is still at %s (the rebuild only read git)", head[:7])
	return nil
}

// subdirectories lists the directories right under dir, as "name/".
func subdirectories(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var dirs []string
	for _, e := range entries {
		if e.IsDir() {
			dirs = append(dirs, e.Name()+"/")
		}
	}
	return dirs, nil
}
