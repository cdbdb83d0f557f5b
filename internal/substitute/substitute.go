// Package substitute replaces "${NAME}" references in built objects with
// the values of variables. It does no I/O.
//
// In a string value, "${NAME}" is the value of NAME; "${NAME:=default}" is
// the value of NAME, or default when NAME is undefined or empty; "$${NAME}"
// is the text "${NAME}". A "$" not followed by "{" (nor "${" after "$") is
// kept. Only values are rewritten, never map keys, so a value can never add
// fields or objects.
//
// Strict substitution (the default) refuses a reference to an undefined
// variable without a default and a malformed reference. Substitution of
// defined variables only (Options.OnlyDefined) replaces references to the
// variables given and leaves every other "${...}" and "$${...}" text as it
// is, so that text written for shells keeps its meaning.
package substitute

import (
	"fmt"
	"strings"
)

// UndefinedError reports a reference to a variable that has no value and no
// default.
type UndefinedError struct {
	// Name of the variable.
	Name string
	// Field is the path of the string value, such as "spec.replicas" or
	// "data.key".
	Field string
}

func (e *UndefinedError) Error() string {
	return fmt.Sprintf("variable %s is not defined (in %s); define it in spec.postBuild, give it a default with ${%s:=value}, or write $${%s} for the literal text", e.Name, e.Field, e.Name, e.Name)
}

// SyntaxError reports a "${" that does not start a valid reference.
type SyntaxError struct {
	// Ref is the text of the reference as far as it was read.
	Ref string
	// Field is the path of the string value.
	Field string
	// Reason says what is wrong.
	Reason string
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("invalid variable reference %q (in %s): %s; write $${...} for the literal text", e.Ref, e.Field, e.Reason)
}

// maxRef bounds the text of one reference, so that a "${" without its "}"
// is reported with a short quote.
const maxRef = 256

// String returns s with its references replaced by values from vars,
// strictly. field names s in errors.
func String(s, field string, vars map[string]string) (string, error) {
	return replacer{vars: vars}.text(s, field)
}

// replacer substitutes text: strictly, or only the defined variables.
type replacer struct {
	vars        map[string]string
	onlyDefined bool
}

func (r replacer) text(s, field string) (string, error) {
	if !strings.Contains(s, "${") {
		return s, nil
	}
	var b strings.Builder
	b.Grow(len(s))
	for {
		i := strings.IndexByte(s, '$')
		if i < 0 {
			b.WriteString(s)
			return b.String(), nil
		}
		b.WriteString(s[:i])
		s = s[i:]
		switch {
		case strings.HasPrefix(s, "$${"):
			if r.onlyDefined {
				b.WriteString("$${")
			} else {
				b.WriteString("${")
			}
			s = s[3:]
		case strings.HasPrefix(s, "${"):
			v, n, err := r.reference(s, field)
			if err != nil {
				return "", err
			}
			b.WriteString(v)
			s = s[n:]
		default:
			b.WriteByte('$')
			s = s[1:]
		}
	}
}

// reference resolves the reference s starts with and returns its value and
// length. Substituting only defined variables, a reference to another
// name, or one that does not parse, is its own text.
func (r replacer) reference(s, field string) (string, int, error) {
	name, def, hasDefault, end, err := parse(s, field)
	v, ok := r.vars[name]
	switch {
	case r.onlyDefined && (err != nil || !ok):
		return "${", 2, nil
	case err != nil:
		return "", 0, err
	case hasDefault && v == "":
		return def, end, nil
	case !ok:
		return "", 0, &UndefinedError{Name: name, Field: field}
	}
	return v, end, nil
}

// parse reads the reference s starts with: its name, its default, and its
// length.
func parse(s, field string) (name, def string, hasDefault bool, n int, err error) {
	end := strings.IndexByte(s, '}')
	if end < 0 {
		return "", "", false, 0, &SyntaxError{Ref: quote(s), Field: field, Reason: "no closing }"}
	}
	name, def, hasDefault = strings.Cut(s[2:end], ":=")
	if !ValidName(name) {
		return "", "", false, 0, &SyntaxError{Ref: quote(s[:end+1]), Field: field, Reason: "a name is a letter or '_', then letters, digits or '_', optionally followed by :=default"}
	}
	return name, def, hasDefault, end + 1, nil
}

// wholeReference returns the name s refers to when s is exactly one
// reference, "${NAME}" or "${NAME:=default}".
func wholeReference(s string) (string, bool) {
	if !strings.HasPrefix(s, "${") || strings.IndexByte(s, '}') != len(s)-1 {
		return "", false
	}
	name, _, _, _, err := parse(s, "")
	return name, err == nil
}

func quote(s string) string {
	if len(s) > maxRef {
		return s[:maxRef] + "…"
	}
	return s
}

// ValidName reports whether name is a variable name: a letter or '_', then
// letters, digits or '_'.
func ValidName(name string) bool {
	if name == "" {
		return false
	}
	for i, c := range name {
		letter := c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
		if !letter && (i == 0 || c < '0' || c > '9') {
			return false
		}
	}
	return true
}
