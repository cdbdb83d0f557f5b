package chartpull

import (
	"errors"
	"fmt"

	"sigs.k8s.io/yaml"
)

// Metadata is what pulling needs of a Chart.yaml.
type Metadata struct {
	APIVersion   string       `json:"apiVersion"`
	Name         string       `json:"name"`
	Version      string       `json:"version"`
	Type         string       `json:"type"`
	Dependencies []Dependency `json:"dependencies"`
}

// Dependency is one entry of a chart's dependencies.
type Dependency struct {
	Name       string `json:"name"`
	Version    string `json:"version"`
	Repository string `json:"repository"`
	Alias      string `json:"alias"`
}

// parseMetadata reads a Chart.yaml, and for an apiVersion v1 chart the
// dependencies of its requirements.yaml.
func parseMetadata(chartYAML, requirements []byte) (Metadata, error) {
	var m Metadata
	if err := yaml.Unmarshal(chartYAML, &m); err != nil {
		return Metadata{}, err
	}
	if m.Name == "" || m.Version == "" {
		return Metadata{}, errors.New("no name or no version")
	}
	if m.APIVersion == "v1" && len(m.Dependencies) == 0 && requirements != nil {
		var req struct {
			Dependencies []Dependency `json:"dependencies"`
		}
		if err := yaml.Unmarshal(requirements, &req); err != nil {
			return Metadata{}, fmt.Errorf("requirements.yaml: %w", err)
		}
		m.Dependencies = req.Dependencies
	}
	return m, nil
}
