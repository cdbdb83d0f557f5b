package helm

import (
	"fmt"
	"strings"
	"text/template"
)

// guardedFuncs replaces the template functions that build a string or a
// list of a size the template chooses, so that one call cannot allocate
// more than maxBytes. They behave as Sprig's otherwise.
func guardedFuncs(maxBytes int64) template.FuncMap {
	tooBig := func(fn string, n int64) error {
		return fmt.Errorf("%s would build %d bytes, more than the %d allowed: %w", fn, n, maxBytes, ErrLimit)
	}
	return template.FuncMap{
		"repeat": func(count int, str string) (string, error) {
			if count > 0 && int64(count)*int64(len(str)) > maxBytes {
				return "", tooBig("repeat", int64(count)*int64(len(str)))
			}
			return strings.Repeat(str, count), nil
		},
		"until": func(count int) ([]int, error) {
			step := 1
			if count < 0 {
				step = -1
			}
			return untilStep(0, count, step, maxBytes, tooBig)
		},
		"untilStep": func(start, stop, step int) ([]int, error) {
			return untilStep(start, stop, step, maxBytes, tooBig)
		},
	}
}

// untilStep is Sprig's untilStep, bounded.
func untilStep(start, stop, step int, maxBytes int64, tooBig func(string, int64) error) ([]int, error) {
	var n int64
	switch {
	case stop < start && step < 0:
		n = (int64(start) - int64(stop) - int64(step) - 1) / -int64(step)
	case stop >= start && step > 0:
		n = (int64(stop) - int64(start) + int64(step) - 1) / int64(step)
	}
	if n*8 > maxBytes {
		return nil, tooBig("until", n*8)
	}
	v := []int{}
	if stop < start {
		if step >= 0 {
			return v, nil
		}
		for i := start; i > stop; i += step {
			v = append(v, i)
		}
		return v, nil
	}
	if step <= 0 {
		return v, nil
	}
	for i := start; i < stop; i += step {
		v = append(v, i)
	}
	return v, nil
}
