package substitute

import (
	"slices"
	"strconv"
	"strings"

	utiljson "k8s.io/apimachinery/pkg/util/json"
	sigsyaml "sigs.k8s.io/yaml"
)

// Options say which references Object replaces, and with what.
type Options struct {
	// Vars are the values of the variables.
	Vars map[string]string
	// OnlyDefined replaces only references to Vars and keeps any other
	// "${...}" and "$${...}" text as it is, with no error.
	OnlyDefined bool
	// Typed are the fields whose value was written as an unquoted YAML
	// scalar that is exactly one reference (see TypedFields). There a value
	// that YAML reads as a number or a boolean becomes that number or
	// boolean, as if it had been written in the reference's place; any other
	// value stays a string.
	Typed []string
	// Text, if set, reports the variables whose values stay strings even in
	// a Typed field.
	Text func(name string) bool
}

// Object returns a copy of obj (a decoded JSON object) with every string
// value substituted. obj itself is not changed.
func Object(obj map[string]any, opts Options) (map[string]any, error) {
	w := walker{r: replacer{vars: opts.Vars, onlyDefined: opts.OnlyDefined}, typed: opts.Typed, text: opts.Text}
	out, err := w.value(obj, "")
	if err != nil {
		return nil, err
	}
	return out.(map[string]any), nil
}

type walker struct {
	r     replacer
	typed []string
	text  func(string) bool
}

func (w walker) value(v any, field string) (any, error) {
	switch t := v.(type) {
	case string:
		return w.scalar(t, field)
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, e := range t {
			s, err := w.value(e, join(field, k))
			if err != nil {
				return nil, err
			}
			out[k] = s
		}
		return out, nil
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			s, err := w.value(e, index(field, i))
			if err != nil {
				return nil, err
			}
			out[i] = s
		}
		return out, nil
	}
	// Numbers, booleans and null hold no text.
	return v, nil
}

// scalar substitutes one string, giving it the type of its value in a
// typed field.
func (w walker) scalar(s, field string) (any, error) {
	out, err := w.r.text(s, field)
	if err != nil || len(w.typed) == 0 {
		return out, err
	}
	name, whole := wholeReference(s)
	if !whole || (w.text != nil && w.text(name)) || out == s || !slices.Contains(w.typed, field) {
		return out, nil
	}
	if typed, ok := yamlScalar(out); ok {
		return typed, nil
	}
	return out, nil
}

// yamlScalar returns the number or boolean YAML reads s as (with the YAML
// 1.1 rules kubectl uses), or false for anything else. A value with
// spaces, a comment or several lines is text.
func yamlScalar(s string) (any, bool) {
	if s == "" || strings.ContainsAny(s, " \t\r\n#") {
		return nil, false
	}
	j, err := sigsyaml.YAMLToJSON([]byte(s))
	if err != nil {
		return nil, false
	}
	var v any
	if err := utiljson.Unmarshal(j, &v); err != nil {
		return nil, false
	}
	switch v.(type) {
	case int64, float64, bool:
		return v, true
	}
	return nil, false
}

func join(field, key string) string {
	if field == "" {
		return key
	}
	return field + "." + key
}

func index(field string, i int) string {
	return field + "[" + strconv.Itoa(i) + "]"
}
