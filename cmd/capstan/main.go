// Command capstan bootstraps a Kubernetes cluster from git and, as
// `capstan controller`, keeps it in sync.
package main

import "github.com/capstan-gitops/capstan/cmd/capstan/app"

func main() {
	app.Main()
}
