package substitute

import "strconv"

// Object returns a copy of obj (a decoded JSON object) with every string
// value substituted. obj itself is not changed.
func Object(obj map[string]any, vars map[string]string) (map[string]any, error) {
	out, err := value(obj, "", vars)
	if err != nil {
		return nil, err
	}
	return out.(map[string]any), nil
}

func value(v any, field string, vars map[string]string) (any, error) {
	switch t := v.(type) {
	case string:
		return String(t, field, vars)
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, e := range t {
			s, err := value(e, join(field, k), vars)
			if err != nil {
				return nil, err
			}
			out[k] = s
		}
		return out, nil
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			s, err := value(e, field+"["+strconv.Itoa(i)+"]", vars)
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

func join(field, key string) string {
	if field == "" {
		return key
	}
	return field + "." + key
}
