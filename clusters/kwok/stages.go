package kwok

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// kwokController is the kwokctl component that simulates nodes and pods.
const kwokController = "kwok-controller"

// AddStages adds kwok Stage documents (kwok.x-k8s.io/v1alpha1) to cluster
// name and restarts its kwok controller, which reads stages only when it
// starts. kwokctl's default stages stay: a Stage with a weight above zero is
// chosen over them whenever both match an object. A pod stage that never
// reports Ready, say, makes pods of one image crash-loop.
func (r *Runner) AddStages(ctx context.Context, name string, stages ...string) error {
	if len(stages) == 0 {
		return nil
	}
	// kwokctl keeps the configuration its components run with, default
	// stages included, in the cluster's kwok.yaml.
	path := filepath.Join(r.workDir, "clusters", name, "kwok.yaml")
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return fmt.Errorf("opening the kwok configuration of %s: %w", name, err)
	}
	var b strings.Builder
	for _, s := range stages {
		b.WriteString("\n---\n")
		b.WriteString(strings.TrimSpace(s))
		b.WriteString("\n")
	}
	_, err = f.WriteString(b.String())
	if closeErr := f.Close(); err == nil {
		err = closeErr
	}
	if err != nil {
		return fmt.Errorf("adding stages to the kwok configuration of %s: %w", name, err)
	}
	if err := r.Stop(ctx, name, kwokController); err != nil {
		return err
	}
	return r.Start(ctx, name, kwokController)
}
