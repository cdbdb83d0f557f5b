package git

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"time"

	"github.com/go-git/go-git/v5/plumbing/transport"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// sshDialTimeout bounds the TCP connect when ctx has no earlier deadline.
const sshDialTimeout = 30 * time.Second

// sshAuth is go-git's ssh.AuthMethod with public keys and a host key check
// against the given known_hosts only.
type sshAuth struct {
	user       string
	signer     ssh.Signer
	hostKey    ssh.HostKeyCallback
	algorithms []string
	timeout    time.Duration
}

func (a *sshAuth) Name() string   { return "ssh-public-keys" }
func (a *sshAuth) String() string { return "user: " + a.user + ", name: ssh-public-keys" }

// ClientConfig implements go-git's ssh.AuthMethod.
func (a *sshAuth) ClientConfig() (*ssh.ClientConfig, error) {
	return &ssh.ClientConfig{
		User:              a.user,
		Auth:              []ssh.AuthMethod{ssh.PublicKeys(a.signer)},
		HostKeyCallback:   a.hostKey,
		HostKeyAlgorithms: a.algorithms,
		Timeout:           a.timeout,
	}, nil
}

// sshMethod builds SSH auth for ep. It fails early with ErrHostKeyMismatch
// when known_hosts has no key for the host.
func (a Auth) sshMethod(ctx context.Context, ep Endpoint) (transport.AuthMethod, error) {
	if len(a.Identity) == 0 {
		return nil, fmt.Errorf("%w: ssh needs an identity", ErrInvalidAuth)
	}
	if len(a.KnownHosts) == 0 {
		return nil, fmt.Errorf("%w: ssh needs known_hosts", ErrInvalidAuth)
	}
	signer, err := a.signer()
	if err != nil {
		return nil, err
	}
	check, err := knownHostsCallback(a.KnownHosts)
	if err != nil {
		return nil, err
	}
	port := ep.port
	if port == 0 {
		port = 22
	}
	algorithms, err := hostKeyAlgorithms(check, net.JoinHostPort(ep.host, strconv.Itoa(port)))
	if err != nil {
		return nil, err
	}
	user := ep.user
	if user == "" {
		user = "git"
	}
	timeout := sshDialTimeout
	if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) < timeout {
		timeout = max(time.Until(deadline), time.Millisecond)
	}
	return &sshAuth{user: user, signer: signer, hostKey: verifyHostKey(check), algorithms: algorithms, timeout: timeout}, nil
}

// signer parses Identity, using Password as the passphrase if encrypted.
func (a Auth) signer() (ssh.Signer, error) {
	signer, err := ssh.ParsePrivateKey(a.Identity)
	var missing *ssh.PassphraseMissingError
	if errors.As(err, &missing) && a.Password != "" {
		signer, err = ssh.ParsePrivateKeyWithPassphrase(a.Identity, []byte(a.Password))
	}
	if err != nil {
		// x/crypto errors describe the format, never the key material.
		return nil, fmt.Errorf("%w: parsing identity: %w", ErrInvalidAuth, err)
	}
	return signer, nil
}

// checkKnownHosts reports whether data has at least one valid line.
func checkKnownHosts(data []byte) error {
	_, err := knownHostsCallback(data)
	return err
}

// knownHostsCallback builds a host key check from known_hosts data. The
// x/crypto parser only reads files, so the data goes through a private
// temporary file that is removed before returning; nothing is written to
// ~/.ssh or any other shared place.
func knownHostsCallback(data []byte) (ssh.HostKeyCallback, error) {
	f, err := os.CreateTemp("", "capstan-known-hosts-*")
	if err != nil {
		return nil, fmt.Errorf("storing known_hosts: %w", err)
	}
	defer func() { _ = os.Remove(f.Name()) }()
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("storing known_hosts: %w", err)
	}
	check, err := knownhosts.New(f.Name())
	if err != nil {
		return nil, fmt.Errorf("%w: parsing known_hosts: %w", ErrInvalidAuth, err)
	}
	return check, nil
}

// verifyHostKey marks every host key failure as ErrHostKeyMismatch.
func verifyHostKey(check ssh.HostKeyCallback) ssh.HostKeyCallback {
	return func(host string, remote net.Addr, key ssh.PublicKey) error {
		if err := check(host, remote, key); err != nil {
			return fmt.Errorf("%w: %w", ErrHostKeyMismatch, err)
		}
		return nil
	}
}

// hostKeyAlgorithms lists the algorithms of the keys known_hosts has for
// hostPort, so that the server presents one of those keys. It asks the
// check about a key that matches nothing and reads the wanted keys from the
// error, as go-git's knownhosts helper does.
func hostKeyAlgorithms(check ssh.HostKeyCallback, hostPort string) ([]string, error) {
	err := check(hostPort, &net.TCPAddr{IP: net.IPv4zero}, probeKey{})
	var keyErr *knownhosts.KeyError
	if !errors.As(err, &keyErr) {
		return nil, fmt.Errorf("%w: checking %s: %w", ErrHostKeyMismatch, hostPort, err)
	}
	if len(keyErr.Want) == 0 {
		return nil, fmt.Errorf("%w: no key for %s in known_hosts", ErrHostKeyMismatch, knownhosts.Normalize(hostPort))
	}
	var algorithms []string
	seen := map[string]bool{}
	for _, k := range keyErr.Want {
		for _, alg := range algorithmsFor(k.Key.Type()) {
			if !seen[alg] {
				seen[alg] = true
				algorithms = append(algorithms, alg)
			}
		}
	}
	return algorithms, nil
}

// algorithmsFor maps a key type to the signature algorithms that prove it.
func algorithmsFor(keyType string) []string {
	if keyType == ssh.KeyAlgoRSA {
		return []string{ssh.KeyAlgoRSASHA512, ssh.KeyAlgoRSASHA256, ssh.KeyAlgoRSA}
	}
	return []string{keyType}
}

// probeKey is a public key that no known_hosts line matches.
type probeKey struct{}

func (probeKey) Type() string                        { return "capstan-probe" }
func (probeKey) Marshal() []byte                     { return []byte("capstan-probe") }
func (probeKey) Verify([]byte, *ssh.Signature) error { return errors.New("probe key") }
