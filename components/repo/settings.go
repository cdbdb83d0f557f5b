package repo

import (
	"fmt"
	"time"

	"golang.org/x/mod/semver"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/capstan-gitops/capstan/components/manifests"
)

// Settings are what shape the rendered install. They are stored in the
// repository (settings.yaml, a ConfigMap) so that a later bootstrap with
// fewer flags reproduces the same install instead of changing it.
type Settings struct {
	Version  string
	Image    string
	LogLevel string
	Interval time.Duration
}

// Flags are the settings a user gave on the command line; empty means not given.
type Flags struct {
	Version  string
	Image    string
	LogLevel string
	Interval time.Duration
}

// SettingsName is the name of the ConfigMap holding the stored settings.
const SettingsName = "capstan-bootstrap"

// Resolve decides the settings of this run from the flags, the settings
// stored in the repository (nil on a first bootstrap) and the CLI's own
// version. Flags win; otherwise stored settings are kept, except that a
// newer CLI upgrades the version. A CLI older than the stored version never
// downgrades silently. The returned note explains a version change.
func Resolve(flags Flags, stored *Settings, cliVersion string) (Settings, string) {
	s := Settings{Version: cliVersion, LogLevel: manifests.DefaultLogLevel, Interval: time.Minute}
	note := ""
	if stored != nil {
		s = *stored
		if flags.Version == "" && newer(cliVersion, stored.Version) {
			s.Version = cliVersion
			note = fmt.Sprintf("upgrading the controller from %s to %s", stored.Version, cliVersion)
		}
	}
	if flags.Version != "" {
		s.Version = flags.Version
	}
	if flags.Image != "" {
		s.Image = flags.Image
	}
	if flags.LogLevel != "" {
		s.LogLevel = flags.LogLevel
	}
	if flags.Interval > 0 {
		s.Interval = flags.Interval
	}
	return s, note
}

// newer reports whether a is a newer semantic version than b; a version
// that is not semver (a development build) is never newer.
func newer(a, b string) bool {
	return semver.IsValid(a) && semver.IsValid(b) && semver.Compare(a, b) > 0
}

// settingsConfigMap renders s as the stored ConfigMap.
func settingsConfigMap(s Settings) *corev1.ConfigMap {
	return &corev1.ConfigMap{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"},
		ObjectMeta: metav1.ObjectMeta{Name: SettingsName, Namespace: manifests.Namespace},
		Data: map[string]string{
			"version":  s.Version,
			"image":    s.Image,
			"logLevel": s.LogLevel,
			"interval": s.Interval.String(),
		},
	}
}

// ParseSettings reads settings.yaml as written by Render.
func ParseSettings(data []byte) (*Settings, error) {
	cm := &corev1.ConfigMap{}
	if err := yaml.UnmarshalStrict(data, cm); err != nil {
		return nil, fmt.Errorf("reading stored bootstrap settings: %w", err)
	}
	interval, err := time.ParseDuration(cm.Data["interval"])
	if err != nil {
		return nil, fmt.Errorf("reading stored bootstrap settings: interval: %w", err)
	}
	return &Settings{Version: cm.Data["version"], Image: cm.Data["image"], LogLevel: cm.Data["logLevel"], Interval: interval}, nil
}
