package repo

import (
	"fmt"
	"path"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/yaml"

	capstanv1 "github.com/capstan-gitops/capstan/api/v1"
	"github.com/capstan-gitops/capstan/components/manifests"
)

// Names of what bootstrap writes to the repository, below <path>/capstan-system/.
const (
	DirName           = "capstan-system"
	ComponentsFile    = "components.yaml"
	SyncFile          = "sync.yaml"
	SettingsFile      = "settings.yaml"
	KustomizationFile = "kustomization.yaml"
	// RootSyncName is the name of the Sync that applies <path>, Capstan included.
	RootSyncName = "capstan-system"
	// CredentialsSecret holds the git credentials in the cluster; never in git.
	CredentialsSecret = "capstan-git"
	// DecryptionSecret holds the age key that decrypts the repository's
	// SOPS-encrypted files, under AgeKeyEntry; never in git.
	DecryptionSecret = "capstan-sops"
	// AgeKeyEntry is the key of DecryptionSecret holding the identities.
	AgeKeyEntry = "age" + capstanv1.AgeKeySuffix
	// WebhookSecret holds the root Sync's webhook token under
	// capstanv1.WebhookTokenKey; never in git.
	WebhookSecret = "capstan-webhook-token"
)

// Input is what the rendered repository files depend on.
type Input struct {
	URL, Branch, Path string
	// HasCredentials adds a secretRef to the root Sync.
	HasCredentials bool
	// HasDecryption adds decryption with DecryptionSecret to the root Sync.
	HasDecryption bool
	Settings      Settings
}

// Dir returns <path>/capstan-system.
func (in Input) Dir() string { return path.Join(in.Path, DirName) }

// RenderFiles returns the files bootstrap keeps in the repository, keyed by
// slash path from the repository root. kustomization.yaml is included; the
// caller writes it only when missing, so that users' patches survive.
func RenderFiles(in Input) (map[string][]byte, error) {
	opts := manifests.DefaultOptions(in.Settings.Version)
	opts.Image, opts.LogLevel = in.Settings.Image, in.Settings.LogLevel
	opts.WebhookNodePort = in.Settings.WebhookNodePort
	components, err := manifests.RenderYAML(opts)
	if err != nil {
		return nil, fmt.Errorf("rendering components: %w", err)
	}
	sync, err := marshal("# The root Sync: it applies "+in.Path+", this directory included.\n", rootSync(in))
	if err != nil {
		return nil, err
	}
	settings, err := marshal("# Settings of `capstan bootstrap`, read again by later runs.\n", settingsConfigMap(in.Settings))
	if err != nil {
		return nil, err
	}
	kustomization := "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n- " +
		ComponentsFile + "\n- " + SyncFile + "\n- " + SettingsFile + "\n"
	dir := in.Dir()
	return map[string][]byte{
		path.Join(dir, ComponentsFile):    components,
		path.Join(dir, SyncFile):          sync,
		path.Join(dir, SettingsFile):      settings,
		path.Join(dir, KustomizationFile): []byte(kustomization),
	}, nil
}

// rootSync is the Sync that keeps <path> applied.
func rootSync(in Input) *capstanv1.Sync {
	s := &capstanv1.Sync{
		TypeMeta:   metav1.TypeMeta{APIVersion: capstanv1.GroupVersion.String(), Kind: capstanv1.SyncKind},
		ObjectMeta: metav1.ObjectMeta{Name: RootSyncName, Namespace: manifests.Namespace},
		Spec: capstanv1.SyncSpec{
			URL:      in.URL,
			Ref:      &capstanv1.GitRef{Branch: in.Branch},
			Path:     in.Path,
			Interval: metav1.Duration{Duration: in.Settings.Interval},
		},
	}
	if in.HasCredentials {
		s.Spec.SecretRef = &capstanv1.LocalObjectReference{Name: CredentialsSecret}
	}
	if in.Settings.Webhook {
		s.Spec.Webhook = &capstanv1.Webhook{SecretRef: capstanv1.LocalObjectReference{Name: WebhookSecret}}
	}
	if in.HasDecryption {
		s.Spec.Decryption = &capstanv1.Decryption{Provider: capstanv1.SOPSProvider, SecretRef: capstanv1.LocalObjectReference{Name: DecryptionSecret}}
	}
	return s
}

// marshal encodes obj as YAML after header, without the empty status and
// creation timestamp that typed objects carry.
func marshal(header string, obj any) ([]byte, error) {
	u, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	if err != nil {
		return nil, fmt.Errorf("encoding manifest: %w", err)
	}
	delete(u, "status")
	unstructured.RemoveNestedField(u, "metadata", "creationTimestamp")
	b, err := yaml.Marshal(u)
	if err != nil {
		return nil, fmt.Errorf("encoding manifest: %w", err)
	}
	return append([]byte(header), b...), nil
}
