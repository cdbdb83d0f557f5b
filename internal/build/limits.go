package build

import (
	"context"
	"time"

	"filippo.io/age"

	"github.com/capstan-gitops/capstan/internal/helm"
)

// Defaults used by [DefaultLimits] and for zero fields of [Limits].
const (
	DefaultMaxFileBytes  = 8 << 20
	DefaultMaxFiles      = 10_000
	DefaultMaxTotalBytes = 64 << 20
	DefaultMaxObjects    = 50_000
)

// amplification bounds how much more kustomize may read and emit than the
// checkout holds (a base included by several overlays is read again).
const amplification = 4

// Limits bounds the work and memory of one Build. A zero or negative field
// takes its default.
type Limits struct {
	// MaxFileBytes caps the size of any one file, checked before reading.
	MaxFileBytes int64
	// MaxFiles caps the number of directory entries (files, directories
	// and symlinks) visited.
	MaxFiles int
	// MaxTotalBytes caps the bytes read from the checkout. For kustomize,
	// the bytes it reads and the size of its output are each capped at
	// four times this.
	MaxTotalBytes int64
	// MaxObjects caps the number of objects built.
	MaxObjects int
	// ChartTimeout caps the time one helmCharts entry may take to render
	// (zero: 10 s, internal/helm's default).
	ChartTimeout time.Duration
	// MaxChartBytes caps the manifests one helmCharts entry may render
	// (zero: 32 MiB).
	MaxChartBytes int64
}

// DefaultLimits returns 8 MiB per file, 10,000 entries, 64 MiB in total
// and 50,000 objects.
func DefaultLimits() Limits {
	return Limits{
		MaxFileBytes:  DefaultMaxFileBytes,
		MaxFiles:      DefaultMaxFiles,
		MaxTotalBytes: DefaultMaxTotalBytes,
		MaxObjects:    DefaultMaxObjects,
	}
}

// withDefaults replaces zero or negative fields by their defaults.
func (l Limits) withDefaults() Limits {
	d := DefaultLimits()
	if l.MaxFileBytes <= 0 {
		l.MaxFileBytes = d.MaxFileBytes
	}
	if l.MaxFiles <= 0 {
		l.MaxFiles = d.MaxFiles
	}
	if l.MaxTotalBytes <= 0 {
		l.MaxTotalBytes = d.MaxTotalBytes
	}
	if l.MaxObjects <= 0 {
		l.MaxObjects = d.MaxObjects
	}
	return l
}

// budget tracks what a Build has used against its Limits.
type budget struct {
	limits Limits
	// ids open encrypted files; the budget travels with every read.
	ids []age.Identity
	// caps gives the cluster's capabilities to the charts rendered;
	// capsRead and capsErr are its answer, asked once per build.
	caps     func(context.Context) (*helm.Capabilities, error)
	capsRead *helm.Capabilities
	capsErr  error
	capsDone bool
	entries  int
	bytes    int64
	objects  int
}

// capabilities returns the cluster's capabilities for a chart render
// (nil without Options.Capabilities), asking for them once per build.
func (b *budget) capabilities(ctx context.Context) (*helm.Capabilities, error) {
	if b.caps == nil {
		return nil, nil
	}
	if !b.capsDone {
		b.capsRead, b.capsErr = b.caps(ctx)
		b.capsDone = true
	}
	return b.capsRead, b.capsErr
}

// entry accounts for one visited directory entry.
func (b *budget) entry(file string) error {
	b.entries++
	if b.entries > b.limits.MaxFiles {
		return errorf(file, 0, "more than %d files and directories: %w", b.limits.MaxFiles, ErrLimit)
	}
	return nil
}

// file accounts for a file of size bytes about to be read.
func (b *budget) file(file string, size int64) error {
	if size > b.limits.MaxFileBytes {
		return errorf(file, 0, "file is %d bytes, more than the %d allowed: %w", size, b.limits.MaxFileBytes, ErrLimit)
	}
	b.bytes += size
	if b.bytes > b.limits.MaxTotalBytes {
		return errorf(file, 0, "reading it exceeds the total of %d bytes: %w", b.limits.MaxTotalBytes, ErrLimit)
	}
	return nil
}

// object accounts for n more objects.
func (b *budget) object(file string, n int) error {
	b.objects += n
	if b.objects > b.limits.MaxObjects {
		return errorf(file, 0, "more than %d objects: %w", b.limits.MaxObjects, ErrLimit)
	}
	return nil
}
