// Package sops decrypts files in the SOPS format whose data key is
// encrypted for age recipients: YAML, JSON, dotenv, INI and binary files as
// the sops CLI writes them, with their MAC verified. It implements the age
// subset of SOPS on filippo.io/age and the standard library; other key
// types (KMS, PGP, Vault) and Shamir key groups are refused.
//
// Plaintext is only ever returned in memory; errors name keys, paths,
// lines and public recipients, never a value or an identity.
package sops
