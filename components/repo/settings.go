package repo

import (
	"fmt"
	"strconv"
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
	// Webhook turns on the root Sync's webhook receiver, with its token in
	// the Secret WebhookSecret (bootstrap --webhook).
	Webhook bool
	// WebhookNodePort publishes the receiver's Service on this node port
	// (bootstrap --webhook --k3d maps a host port to it); 0 keeps it
	// inside the cluster.
	WebhookNodePort int32
	// Notify is the notify setting: a YAML list of spec.notify entries
	// that every Sync without its own spec.notify reports to, their
	// Secrets read from the controller's namespace. Empty sends nothing.
	Notify string
}

// Flags are the settings a user gave on the command line; empty means not given.
type Flags struct {
	Version  string
	Image    string
	LogLevel string
	Interval time.Duration
	// Webhook turns the webhook receiver on; false keeps what is stored.
	Webhook bool
	// WebhookNodePort publishes the receiver on a node port; 0 keeps what is stored.
	WebhookNodePort int32
}

// SettingsName is the name of the ConfigMap holding the stored settings.
const SettingsName = manifests.SettingsName

// Keys of the stored settings that are written only when set, so that an
// install without them renders the same file as before they existed.
const (
	webhookKey         = "webhook"
	webhookNodePortKey = "webhookNodePort"
)

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
	if flags.Webhook {
		s.Webhook = true
	}
	if flags.WebhookNodePort > 0 {
		s.WebhookNodePort = flags.WebhookNodePort
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
	data := map[string]string{
		"version":  s.Version,
		"image":    s.Image,
		"logLevel": s.LogLevel,
		"interval": s.Interval.String(),
	}
	if s.Webhook {
		data[webhookKey] = "true"
	}
	if s.WebhookNodePort > 0 {
		data[webhookNodePortKey] = strconv.Itoa(int(s.WebhookNodePort))
	}
	if s.Notify != "" {
		data[manifests.NotifySettingKey] = s.Notify
	}
	return &corev1.ConfigMap{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"},
		ObjectMeta: metav1.ObjectMeta{Name: SettingsName, Namespace: manifests.Namespace},
		Data:       data,
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
	st := &Settings{Version: cm.Data["version"], Image: cm.Data["image"], LogLevel: cm.Data["logLevel"], Interval: interval,
		Notify: cm.Data[manifests.NotifySettingKey]}
	if v, ok := cm.Data[webhookKey]; ok {
		if st.Webhook, err = strconv.ParseBool(v); err != nil {
			return nil, fmt.Errorf("reading stored bootstrap settings: %s: %w", webhookKey, err)
		}
	}
	if v, ok := cm.Data[webhookNodePortKey]; ok {
		port, err := strconv.ParseInt(v, 10, 32)
		if err != nil {
			return nil, fmt.Errorf("reading stored bootstrap settings: %s: %w", webhookNodePortKey, err)
		}
		st.WebhookNodePort = int32(port)
	}
	if _, err := manifests.ParseNotify(st.Notify); err != nil {
		return nil, fmt.Errorf("reading stored bootstrap settings: %w", err)
	}
	return st, nil
}
