//go:build unix

package kwok

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// lockCreate serialises `kwokctl create cluster` across the processes of
// this host. kwokctl picks "unused" ports by probing downwards from 32768 in
// every process, so two clusters created at the same moment (parallel tests,
// or test packages run side by side) are given the same ports and one of
// them fails. Once create returns, the new cluster's ports are bound.
func lockCreate(ctx context.Context) (unlock func(), err error) {
	path := filepath.Join(os.TempDir(), "capstan-kwokctl-create.lock")
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDONLY, 0o666)
	if err != nil {
		return nil, fmt.Errorf("opening kwok create lock: %w", err)
	}
	fd := int(f.Fd())
	for {
		err := syscall.Flock(fd, syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return func() {
				_ = syscall.Flock(fd, syscall.LOCK_UN)
				_ = f.Close()
			}, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			_ = f.Close()
			return nil, fmt.Errorf("taking kwok create lock %s: %w", path, err)
		}
		select {
		case <-ctx.Done():
			_ = f.Close()
			return nil, fmt.Errorf("waiting for kwok create lock %s: %w", path, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}
