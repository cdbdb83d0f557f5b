//go:build !unix

package kwok

import "context"

// lockCreate does nothing where flock(2) is missing; see lock_unix.go.
func lockCreate(context.Context) (unlock func(), err error) {
	return func() {}, nil
}
