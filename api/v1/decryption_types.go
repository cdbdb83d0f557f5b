package v1

// DecryptionFailedReason: a file of the revision is SOPS-encrypted and could
// not be decrypted (no decryption configured, no identity that opens it, a
// MAC mismatch or a malformed sops block, or the decryption Secret missing).
const DecryptionFailedReason = "DecryptionFailed"

// SOPSProvider is the only decryption provider: files encrypted with SOPS
// for age recipients.
const SOPSProvider = "sops"

// AgeKeySuffix ends the keys of a decryption Secret that hold age
// identities, one or several per value, as Flux reads them.
const AgeKeySuffix = ".agekey"

// Decryption says how a Sync decrypts the SOPS-encrypted files of its
// revision before applying them.
type Decryption struct {
	// Provider decrypts the files; only "sops" is supported.
	// +kubebuilder:validation:Enum=sops
	Provider string `json:"provider"`

	// SecretRef names a Secret in the Sync's namespace whose keys ending
	// in ".agekey" hold age identities (AGE-SECRET-KEY-1...).
	SecretRef LocalObjectReference `json:"secretRef"`
}
