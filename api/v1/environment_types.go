package v1

// The types of this file let one repository feed several environments: a
// ref that follows the newest tag of a semver range, variables substituted
// into the built objects, and a namespace the objects are put into.

// SemverRangePattern is the OpenAPI pattern of spec.ref.semver: one or more
// comparisons ("=", "!=", ">", "<", ">=", "<=", "~", "~>", "^" or none) of
// versions with optional x/X/* wildcards, pre-release and build, joined by
// spaces or commas (and) and "||" (or), or hyphen ranges "1.2 - 1.4.5".
// The controller parses the range again and refuses what the pattern let
// through and the parser does not take.
const SemverRangePattern = `^\s*` + semverAnd + `(\s*\|\|\s*` + semverAnd + `)*\s*$`

const (
	semverVersion = `v?([0-9]+|[xX*])(\.([0-9]+|[xX*])){0,2}(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?(\+[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?`
	semverTerm    = `((=|!=|>=|=>|<=|=<|>|<|~>|~|\^)?\s*` + semverVersion + `|` + semverVersion + `\s+-\s+` + semverVersion + `)`
	semverAnd     = semverTerm + `((\s*,\s*|\s+)` + semverTerm + `)*`
)

// TargetNamespaceMode says how spec.targetNamespace treats objects.
// +kubebuilder:validation:Enum=strict;default
type TargetNamespaceMode string

const (
	// TargetNamespaceStrict puts every namespaced object without a namespace
	// into the target namespace and refuses a revision with an object that
	// names another namespace. It is the mode when none is given.
	TargetNamespaceStrict TargetNamespaceMode = "strict"
	// TargetNamespaceDefault only fills in the namespace of namespaced
	// objects that have none; objects naming a namespace keep it.
	TargetNamespaceDefault TargetNamespaceMode = "default"
)

// PostBuild are the variables substituted into the built objects before they
// are applied. In every string value of every object, "${NAME}" becomes the
// value of NAME and "${NAME:=default}" the value of NAME, or default when NAME
// is undefined or empty; "$${NAME}" is the text "${NAME}". A reference to an
// undefined variable without a default refuses the revision. A reference
// written unquoted as a whole YAML value ("replicas: ${REPLICAS}") takes the
// type YAML gives its value, number or boolean, as if the value were written
// there; quoted ("${PORT}"), in JSON or within other text it is a string.
// An object annotated capstan.dev/substitute: disabled is left as it is.
//
// The built-in variables CAPSTAN_REVISION, CAPSTAN_COMMIT,
// CAPSTAN_COMMIT_SHORT, CAPSTAN_REF and CAPSTAN_TAG are always defined, win
// over the others and are always strings. They are substituted in every
// Sync: without spec.postBuild, references to them (with or without a
// default) are the only text replaced, and every other "${...}" and
// "$${...}" is applied as written, so shell scripts keep their meaning.
type PostBuild struct {
	// Substitute maps variable names to values.
	// +optional
	// +kubebuilder:validation:MaxProperties=256
	// +kubebuilder:validation:XValidation:rule="self.all(k, k.matches('^[_A-Za-z][_A-Za-z0-9]*$'))",message="substitute keys must be variable names: a letter or '_', then letters, digits or '_'"
	Substitute map[string]string `json:"substitute,omitempty"`

	// SubstituteFrom are ConfigMaps and Secrets in the Sync's namespace
	// whose data keys are variables; later ones and Substitute win over
	// earlier ones. Values read from Secrets are never shown in the Sync's
	// status, events or the controller's logs.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=32
	SubstituteFrom []SubstituteReference `json:"substituteFrom,omitempty"`
}

// SubstituteReference names a ConfigMap or a Secret holding variables.
type SubstituteReference struct {
	// Kind is ConfigMap or Secret.
	// +required
	// +kubebuilder:validation:Enum=ConfigMap;Secret
	Kind string `json:"kind"`

	// Name of the object, in the Sync's namespace.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name"`

	// Optional lets the object be missing: its variables are then undefined.
	// +optional
	Optional bool `json:"optional,omitempty"`
}

// Kinds of SubstituteReference.
const (
	ConfigMapKind = "ConfigMap"
	SecretKind    = "Secret"
)

// SubstituteAnnotation set to SubstituteDisabledValue on an object in git
// leaves its "${...}" text as it is.
const (
	SubstituteAnnotation    = "capstan.dev/substitute"
	SubstituteDisabledValue = "disabled"
)

// Built-in variables of spec.postBuild, always defined.
const (
	// VarRevision is the revision applied, as in lastAppliedRevision.
	VarRevision = "CAPSTAN_REVISION"
	// VarCommit is the full commit hash.
	VarCommit = "CAPSTAN_COMMIT"
	// VarCommitShort is the first 7 characters of the commit hash.
	VarCommitShort = "CAPSTAN_COMMIT_SHORT"
	// VarRef is the branch or tag name of the revision.
	VarRef = "CAPSTAN_REF"
	// VarTag is the tag of a tag or semver ref, else empty.
	VarTag = "CAPSTAN_TAG"
)

// NoMatchingTagReason: no tag of the repository is in spec.ref.semver's
// range; nothing was applied or pruned.
const NoMatchingTagReason = "NoMatchingTag"

// TargetNamespaceModeOrDefault returns spec.targetNamespaceMode, or strict.
func (s *Sync) TargetNamespaceModeOrDefault() TargetNamespaceMode {
	if s.Spec.TargetNamespaceMode == "" {
		return TargetNamespaceStrict
	}
	return s.Spec.TargetNamespaceMode
}
