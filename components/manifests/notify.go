package manifests

import (
	"fmt"

	"sigs.k8s.io/yaml"

	capstanv1 "github.com/capstan-gitops/capstan/api/v1"
)

// ParseNotify reads the notify setting: a YAML list of spec.notify entries.
// Empty is none.
func ParseNotify(setting string) ([]capstanv1.Notify, error) {
	var targets []capstanv1.Notify
	if err := yaml.UnmarshalStrict([]byte(setting), &targets); err != nil {
		return nil, fmt.Errorf("%s: %w", NotifySettingKey, err)
	}
	for i, t := range targets {
		if t.Type == "" {
			return nil, fmt.Errorf("%s: entry %d has no type", NotifySettingKey, i+1)
		}
	}
	return targets, nil
}
