package git

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"strconv"

	"github.com/go-git/go-git/v5/plumbing/transport"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// GenerateKey returns a new ed25519 key: the private half in OpenSSH PEM
// form (as the identity Secret key holds it) and the public half as an
// authorized_keys line, for a deploy key.
func GenerateKey(comment string) (private []byte, public string, err error) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, "", fmt.Errorf("generating an ssh key: %w", err)
	}
	block, err := ssh.MarshalPrivateKey(priv, comment)
	if err != nil {
		return nil, "", fmt.Errorf("encoding the ssh key: %w", err)
	}
	sshPub, err := ssh.NewPublicKey(pub)
	if err != nil {
		return nil, "", fmt.Errorf("encoding the ssh key: %w", err)
	}
	line := string(ssh.MarshalAuthorizedKey(sshPub))
	return pem.EncodeToMemory(block), line[:len(line)-1] + " " + comment, nil
}

// HostKey is an SSH server's host key as first seen, not yet trusted.
type HostKey struct {
	// KnownHosts is the known_hosts line that trusts it.
	KnownHosts []byte
	// Fingerprint is its SHA256 fingerprint, for a person to compare.
	Fingerprint string
}

// errScanned stops the handshake once the host key has been seen.
var errScanned = errors.New("host key scanned")

// ScanHostKey connects to the SSH server of ep and returns its host key
// without authenticating or trusting it. The caller must let a person
// confirm it (the fingerprint) before using it.
func ScanHostKey(ctx context.Context, ep Endpoint) (HostKey, error) {
	hk, err := scanHostKey(ctx, ep)
	return hk, wrapErr("reading the ssh host key of", ep, Auth{}, err)
}

func scanHostKey(ctx context.Context, ep Endpoint) (HostKey, error) {
	if ep.Scheme() != "ssh" {
		return HostKey{}, fmt.Errorf("%w: not an ssh URL", ErrInvalidURL)
	}
	tep, err := transport.NewEndpoint(ep.url)
	if err != nil {
		return HostKey{}, err
	}
	port := tep.Port
	if port == 0 {
		port = 22
	}
	addr := net.JoinHostPort(tep.Host, strconv.Itoa(port))
	conn, err := (&net.Dialer{}).DialContext(ctx, "tcp", addr)
	if err != nil {
		return HostKey{}, err
	}
	defer conn.Close()
	if d, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(d)
	}
	var hk HostKey
	cfg := &ssh.ClientConfig{User: "git", HostKeyCallback: func(_ string, _ net.Addr, key ssh.PublicKey) error {
		hk = HostKey{KnownHosts: []byte(knownhosts.Line([]string{knownhosts.Normalize(addr)}, key) + "\n"), Fingerprint: ssh.FingerprintSHA256(key)}
		return errScanned
	}}
	if _, _, _, err := ssh.NewClientConn(conn, addr, cfg); !errors.Is(err, errScanned) {
		if err == nil {
			err = errors.New("the server completed a handshake without showing a host key")
		}
		return HostKey{}, err
	}
	return hk, nil
}
