// Command apidoc writes docs/api.md, the reference of the Sync API, from
// the CRD's OpenAPI schema that controller-gen generates from the Go types.
// `make generate` runs it after controller-gen; a test fails when the
// committed docs/api.md differs from what it would write.
//
//	go run ./hack/apidoc
package main

import (
	"flag"
	"fmt"
	"os"
)

func main() {
	crd := flag.String("crd", "components/manifests/crd/capstan.dev_syncs.yaml", "the Sync CRD")
	out := flag.String("out", "docs/api.md", "the reference to write")
	flag.Parse()
	if err := generate(*crd, *out); err != nil {
		fmt.Fprintf(os.Stderr, "apidoc: %v\n", err)
		os.Exit(1)
	}
}

func generate(crdPath, outPath string) error {
	data, err := os.ReadFile(crdPath)
	if err != nil {
		return err
	}
	doc, err := Render(data, crdPath)
	if err != nil {
		return fmt.Errorf("rendering %s: %w", crdPath, err)
	}
	return os.WriteFile(outPath, doc, 0o644)
}
