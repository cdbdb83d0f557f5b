// Package e2e runs the built capstan binary the way a user does, against a
// real control plane and a real git server.
package e2e
