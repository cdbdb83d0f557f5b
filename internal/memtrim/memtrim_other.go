//go:build !linux

package memtrim

// Release does nothing outside Linux; it reports -1 for both sizes.
func Release() (before, after int64, err error) { return -1, -1, nil }
