// Command demo tells Capstan's story on one machine in a few minutes, with
// no Docker and nothing leaving the machine: it makes a new age key and
// encrypts a Secret for it with SOPS, serves a copy of examples/dwk with that
// Secret from a git server on loopback, bootstraps a simulated (kwok)
// cluster from it with the key (--age-key-file), shows it Ready with the
// Secret decrypted, deletes the cluster, rebuilds it with the very same
// command and shows that the rebuilt cluster holds the same objects and the
// Secret's value and that nothing was pushed. The key exists only in the
// demo's work dir, never in git. Everything it starts is removed at
// the end, also when it is interrupted.
//
// `make demo` builds bin/capstan and the control-plane binaries, then runs
// it; run it by hand from the repository root with
//
//	go run ./hack/demo --capstan bin/capstan
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/go-logr/logr"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/capstan-gitops/capstan/clusters/kwok"
)

func main() {
	// controller-runtime's clients log nothing the story needs.
	ctrllog.SetLogger(logr.Discard())
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintf(os.Stderr, "demo failed: %v\n", err)
		}
		os.Exit(1)
	}
}

// run parses the flags and tells the story on stdout.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	opts, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	return newDemo(opts, stdout).run(ctx)
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.capstan, "capstan", "", "capstan binary to run (default: build ./cmd/capstan into the work dir)")
	fs.StringVar(&o.examples, "examples", "examples/dwk", "the cluster-config repository to serve")
	fs.StringVar(&o.path, "path", "clusters/dwk", "the cluster's directory in that repository")
	fs.StringVar(&o.cluster, "cluster", "dwk", "name of the simulated cluster")
	fs.StringVar(&o.kubeBin, "kube-bin", kwok.BinDir(), "directory of the control-plane binaries (`make kube-bins`)")
	fs.StringVar(&o.workDir, "work-dir", "", "directory for everything the demo creates, removed at the end (default: a new temp dir)")
	fs.StringVar(&o.objectsOut, "objects-out", "", "write the object lists of both clusters to this JSON file")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	return o, nil
}
