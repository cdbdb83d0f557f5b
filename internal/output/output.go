// Package output writes the results of Capstan's commands: text for
// people, JSON or YAML for machines (-o json|yaml).
package output

import (
	"encoding/json"
	"fmt"
	"io"

	"sigs.k8s.io/yaml"
)

// The formats -o accepts.
const (
	Text = "text"
	JSON = "json"
	YAML = "yaml"
)

// Check reports whether format is one Capstan knows; empty means Text.
func Check(format string) error {
	switch format {
	case "", Text, JSON, YAML:
		return nil
	}
	return fmt.Errorf("unknown output format %q: use text, json or yaml", format)
}

// IsText reports whether format asks for output for people.
func IsText(format string) bool { return format == "" || format == Text }

// Write encodes v as JSON (indented, one value) or YAML.
func Write(w io.Writer, format string, v any) error {
	switch format {
	case JSON:
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		if err := enc.Encode(v); err != nil {
			return fmt.Errorf("encoding json: %w", err)
		}
		return nil
	case YAML:
		b, err := yaml.Marshal(v)
		if err != nil {
			return fmt.Errorf("encoding yaml: %w", err)
		}
		_, err = w.Write(b)
		return err
	}
	return Check(format)
}
