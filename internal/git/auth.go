package git

import (
	"context"
	"crypto/x509"
	"fmt"

	"github.com/go-git/go-git/v5/plumbing/transport"
	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"
)

// Keys of a Secret's data that AuthFromSecretData reads; the same keys Flux
// uses, so existing Secrets work.
const (
	SecretUsername    = "username"
	SecretPassword    = "password"
	SecretBearerToken = "bearerToken"
	SecretIdentity    = "identity"
	SecretKnownHosts  = "known_hosts"
	// SecretCACert holds PEM CA certificates to trust for https, as in a
	// kubernetes.io/tls Secret.
	SecretCACert = "ca.crt"
	// SecretCAFile is the older Flux name of SecretCACert, read only when
	// ca.crt is absent.
	SecretCAFile = "caFile"
)

// Auth holds the credentials for one remote. Its String method never prints
// secrets, so an Auth can be logged by accident without leaking.
type Auth struct {
	// Username and Password are HTTP basic credentials. With SSH, Password is
	// the passphrase of an encrypted Identity.
	Username string
	Password string
	// BearerToken is sent as "Authorization: Bearer" over HTTP. It cannot be
	// combined with Username or Password.
	BearerToken string
	// Identity is a PEM private key (OpenSSH, PKCS#1, PKCS#8) for SSH.
	Identity []byte
	// KnownHosts holds known_hosts lines; SSH requires it and verifies the
	// server's host key against it alone.
	KnownHosts []byte
	// CABundle holds PEM CA certificates that https trusts in addition to
	// the system roots, for servers with a private CA or a self-signed
	// certificate. SSH and plain http ignore it.
	CABundle []byte
}

// IsZero reports whether a holds nothing at all, so that a cluster needs no
// git credentials Secret to reach the repository.
func (a Auth) IsZero() bool {
	return a.Username == "" && a.Password == "" && a.BearerToken == "" &&
		len(a.Identity) == 0 && len(a.KnownHosts) == 0 && len(a.CABundle) == 0
}

// AuthFromSecretData reads the keys username, password, bearerToken,
// identity, known_hosts and ca.crt (or, without ca.crt, Flux's older
// caFile) of a Secret's data, ignoring others, and checks that identity,
// known_hosts and the CA bundle parse. Errors match ErrInvalidAuth and never
// quote the data.
func AuthFromSecretData(data map[string][]byte) (Auth, error) {
	a := Auth{
		Username:    string(data[SecretUsername]),
		Password:    string(data[SecretPassword]),
		BearerToken: string(data[SecretBearerToken]),
		Identity:    data[SecretIdentity],
		KnownHosts:  data[SecretKnownHosts],
		CABundle:    data[SecretCACert],
	}
	caKey := SecretCACert
	if len(a.CABundle) == 0 {
		a.CABundle, caKey = data[SecretCAFile], SecretCAFile
	}
	if a.BearerToken != "" && a.Username != "" {
		return Auth{}, fmt.Errorf("%w: %s cannot be combined with %s", ErrInvalidAuth, SecretBearerToken, SecretUsername)
	}
	if len(a.Identity) > 0 {
		if _, err := a.signer(); err != nil {
			return Auth{}, err
		}
	}
	if len(a.KnownHosts) > 0 {
		if err := checkKnownHosts(a.KnownHosts); err != nil {
			return Auth{}, err
		}
	}
	if len(a.CABundle) > 0 {
		if err := checkCABundle(a.CABundle, caKey); err != nil {
			return Auth{}, err
		}
	}
	return a, nil
}

// SecretData lays out a as the data of a Secret, with the keys
// AuthFromSecretData reads; unset credentials are left out.
func SecretData(a Auth) map[string][]byte {
	d := map[string][]byte{}
	set := func(k string, v []byte) {
		if len(v) > 0 {
			d[k] = v
		}
	}
	set(SecretUsername, []byte(a.Username))
	set(SecretPassword, []byte(a.Password))
	set(SecretBearerToken, []byte(a.BearerToken))
	set(SecretIdentity, a.Identity)
	set(SecretKnownHosts, a.KnownHosts)
	set(SecretCACert, a.CABundle)
	return d
}

// checkCABundle reports whether data, named name in errors, holds at least
// one PEM certificate: the test go-git's own CA handling applies (it skips
// blocks that do not parse).
func checkCABundle(data []byte, name string) error {
	if !x509.NewCertPool().AppendCertsFromPEM(data) {
		return fmt.Errorf("%w: %s holds no PEM certificate", ErrInvalidAuth, name)
	}
	return nil
}

// String describes which credentials are set, never their values.
func (a Auth) String() string {
	set := func(ok bool) string {
		if ok {
			return "set"
		}
		return "unset"
	}
	return fmt.Sprintf("git.Auth{username:%s password:%s bearerToken:%s identity:%s known_hosts:%s ca:%s}",
		set(a.Username != ""), set(a.Password != ""), set(a.BearerToken != ""),
		set(len(a.Identity) > 0), set(len(a.KnownHosts) > 0), set(len(a.CABundle) > 0))
}

// GoString is String, so that %#v does not print secrets either.
func (a Auth) GoString() string { return a.String() }

// remoteAccess is what go-git needs, besides the URL, to reach one remote.
type remoteAccess struct {
	// method is the go-git auth; nil means anonymous HTTP.
	method transport.AuthMethod
	// caBundle is Auth.CABundle for https, nil otherwise.
	caBundle []byte
}

// access builds the go-git auth and TLS settings for ep.
func (a Auth) access(ctx context.Context, ep Endpoint) (remoteAccess, error) {
	if err := ep.valid(); err != nil {
		return remoteAccess{}, err
	}
	method, err := a.method(ctx, ep)
	if err != nil {
		return remoteAccess{}, err
	}
	acc := remoteAccess{method: method}
	if ep.scheme == "https" && len(a.CABundle) > 0 {
		if err := checkCABundle(a.CABundle, "the CA bundle"); err != nil {
			return remoteAccess{}, err
		}
		acc.caBundle = a.CABundle
	}
	return acc, nil
}

// method builds the go-git auth for ep. A nil method means anonymous HTTP.
func (a Auth) method(ctx context.Context, ep Endpoint) (transport.AuthMethod, error) {
	if ep.scheme == "ssh" {
		return a.sshMethod(ctx, ep)
	}
	switch {
	case a.BearerToken != "" && (a.Username != "" || a.Password != ""):
		return nil, fmt.Errorf("%w: a bearer token cannot be combined with a username or password", ErrInvalidAuth)
	case a.BearerToken != "":
		return &githttp.TokenAuth{Token: a.BearerToken}, nil
	case a.Username != "" || a.Password != "":
		user := a.Username
		if user == "" {
			user = "git"
		}
		return &githttp.BasicAuth{Username: user, Password: a.Password}, nil
	}
	return nil, nil
}
