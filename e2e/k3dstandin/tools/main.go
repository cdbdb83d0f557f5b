// Command k3d-tools is the stand-in for k3d's tools image in the e2e tests
// (see package k3dstandin). k3d starts it with `noop` during cluster
// creation to learn about the environment, then deletes it; `noop` waits
// for a signal, as the real tool keeps its container up. Image import in
// direct mode, the only one Capstan uses, needs nothing else from it;
// `save-image` (tools-node mode) is refused with a clear error.
package main

import (
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	if len(os.Args) < 2 || os.Args[1] != "noop" {
		fmt.Fprintf(os.Stderr, "k3d-tools stand-in: unsupported command %q: only noop (Capstan imports images in direct mode)\n", os.Args[1:])
		os.Exit(2)
	}
	fmt.Println("noop: waiting for a signal")
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	<-sig
}
