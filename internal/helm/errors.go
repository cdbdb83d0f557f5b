package helm

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
)

const includeCall = "error calling include: "

// nestedInclude is Helm's refusal of an include nested too deep; the
// template engine's own depth limit reads "exceeded maximum template depth".
var nestedInclude = regexp.MustCompile(`nested reference name: (\S+?):? `)

// shorten turns a render error into one line a person can read: a chain
// of includes (a template recursing) keeps its outermost location and its
// innermost cause, and recursion past the engine's limits wraps
// [ErrLimit].
func shorten(err error) error {
	msg := err.Error()
	parts := strings.Split(msg, includeCall)
	recursion := nestedInclude.FindStringSubmatch(msg)
	switch {
	case recursion != nil:
		return fmt.Errorf("%sinclude of %q nests more than 1000 deep (%d includes): %w",
			strings.TrimSuffix(parts[0], ": ")+": ", recursion[1], len(parts)-1, ErrLimit)
	case strings.Contains(msg, "exceeded maximum template depth"):
		return fmt.Errorf("%stemplates nest more than the engine allows: %w", strings.TrimSuffix(parts[0], ": ")+": ", ErrLimit)
	case len(parts) > 3:
		return errors.New(parts[0] + fmt.Sprintf("… %d nested includes …: ", len(parts)-2) + parts[len(parts)-1])
	}
	return err
}
