package manifests

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"
)

// Options chooses what Render produces. An empty Image, Namespace or LogLevel
// means its default.
type Options struct {
	// Version of Capstan; it labels every object and tags the default image.
	// It must be a valid label value, such as "v0.1.0".
	Version string
	// Image of the controller; empty means ImageRepository:Version.
	Image string
	// Namespace the controller runs in; empty means Namespace.
	Namespace string
	// LogLevel of the controller: one of LogLevels; empty means DefaultLogLevel.
	LogLevel string
	// WebhookNodePort makes the webhook Service a NodePort Service on this
	// port (30000-32767), which a k3d host port maps to; 0 keeps it
	// ClusterIP.
	WebhookNodePort int32
}

// DefaultOptions returns the options that install the given version with its
// published image.
func DefaultOptions(version string) Options {
	return Options{
		Version:   version,
		Image:     DefaultImage(version),
		Namespace: Namespace,
		LogLevel:  DefaultLogLevel,
	}
}

// DefaultImage returns the published controller image of version.
func DefaultImage(version string) string {
	return ImageRepository + ":" + version
}

// LogLevels returns the log levels the controller accepts.
func LogLevels() []string {
	return []string{"debug", "info", "error"}
}

// imagePattern accepts a registry/repository[:tag][@digest] reference loosely:
// no whitespace, quotes or other characters a reference cannot hold.
var imagePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._/:@-]*$`)

// maxImageLength bounds Options.Image.
const maxImageLength = 512

// Validate reports every problem with o in one error.
func (o Options) Validate() error {
	var errs []error
	if o.Version == "" {
		errs = append(errs, errors.New("version is empty"))
	} else if msgs := validation.IsValidLabelValue(o.Version); len(msgs) > 0 {
		errs = append(errs, fmt.Errorf("version %q is not a valid label value: %s", o.Version, strings.Join(msgs, "; ")))
	}
	if o.Image != "" && (len(o.Image) > maxImageLength || !imagePattern.MatchString(o.Image)) {
		errs = append(errs, fmt.Errorf("image %q is not an image reference", o.Image))
	}
	if o.Namespace != "" {
		if msgs := validation.IsDNS1123Label(o.Namespace); len(msgs) > 0 {
			errs = append(errs, fmt.Errorf("namespace %q is not valid: %s", o.Namespace, strings.Join(msgs, "; ")))
		}
	}
	if o.LogLevel != "" && !slices.Contains(LogLevels(), o.LogLevel) {
		errs = append(errs, fmt.Errorf("log level %q is not one of %s", o.LogLevel, strings.Join(LogLevels(), ", ")))
	}
	if p := o.WebhookNodePort; p != 0 && (p < 30000 || p > 32767) {
		errs = append(errs, fmt.Errorf("webhook node port %d is not in 30000-32767", p))
	}
	if len(errs) > 0 {
		return fmt.Errorf("invalid manifest options: %w", errors.Join(errs...))
	}
	return nil
}

// withDefaults returns o with its empty fields set to their defaults.
func (o Options) withDefaults() Options {
	if o.Image == "" {
		o.Image = DefaultImage(o.Version)
	}
	if o.Namespace == "" {
		o.Namespace = Namespace
	}
	if o.LogLevel == "" {
		o.LogLevel = DefaultLogLevel
	}
	return o
}
