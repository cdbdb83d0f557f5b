package testenv

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// GitServer is a real git server on 127.0.0.1 for tests. It serves the bare
// repositories under one temporary root over smart HTTP (git http-backend
// behind HTTP basic or bearer auth), over HTTPS (the same handler behind TLS,
// on its own port, with a certificate from a private CA) and over SSH
// (public-key auth only, with git-upload-pack and git-receive-pack). Each
// server generates its own credentials, CA, host key and client key.
type GitServer struct {
	t         testing.TB
	root      string
	gitPath   string
	username  string
	password  string
	token     string
	hostKey   ssh.Signer
	clientPEM []byte
	tls       *gitServerTLS
	cuts      gitServerCuts
	counts    gitServerCounts

	mu         sync.Mutex
	authorized map[string]bool
	httpAddr   string
	httpsAddr  string
	sshAddr    string
	run        *gitServerRun
}

// gitServerRun is one Start..Stop lifetime of a GitServer.
type gitServerRun struct {
	ctx      context.Context
	cancel   context.CancelFunc
	httpSrv  *http.Server
	httpsSrv *http.Server
	sshLn    net.Listener

	mu     sync.Mutex
	closed bool
	conns  map[net.Conn]struct{}
	wg     sync.WaitGroup
}

// NewGitServer starts a git server on loopback and registers a cleanup that
// stops it. It fails the test if git is not installed.
func NewGitServer(t testing.TB) *GitServer {
	t.Helper()
	gitPath, err := exec.LookPath("git")
	if err != nil {
		t.Fatalf("git server needs the git binary: %v", err)
	}
	hostKey, _, err := newGitServerKey()
	if err != nil {
		t.Fatalf("generating ssh host key: %v", err)
	}
	clientKey, clientPEM, err := newGitServerKey()
	if err != nil {
		t.Fatalf("generating ssh client key: %v", err)
	}
	serverTLS, err := newGitServerTLS()
	if err != nil {
		t.Fatalf("generating tls certificates: %v", err)
	}
	s := &GitServer{
		t:          t,
		root:       t.TempDir(),
		gitPath:    gitPath,
		username:   "capstan-" + gitServerRandom(4),
		password:   gitServerRandom(16),
		token:      gitServerRandom(16),
		hostKey:    hostKey,
		clientPEM:  clientPEM,
		tls:        serverTLS,
		authorized: map[string]bool{},
		httpAddr:   "127.0.0.1:0",
		httpsAddr:  "127.0.0.1:0",
		sshAddr:    "127.0.0.1:0",
	}
	s.AuthorizeKey(clientKey.PublicKey())
	s.Start(t)
	t.Cleanup(s.Stop)
	return s
}

// newGitServerKey generates an ed25519 key and returns it as a signer and as
// an OpenSSH PEM block.
func newGitServerKey() (ssh.Signer, []byte, error) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("generating ed25519 key: %w", err)
	}
	signer, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		return nil, nil, fmt.Errorf("wrapping ed25519 key: %w", err)
	}
	block, err := ssh.MarshalPrivateKey(priv, "")
	if err != nil {
		return nil, nil, fmt.Errorf("encoding ed25519 key: %w", err)
	}
	return signer, pem.EncodeToMemory(block), nil
}

// gitServerRandom returns n random bytes, hex encoded.
func gitServerRandom(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms.
	return hex.EncodeToString(b)
}

// Start starts serving again after Stop, on the same ports, so that clients
// see the same server come back. It does nothing if the server is running.
func (s *GitServer) Start(t testing.TB) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.run != nil {
		return
	}
	run, err := s.listen()
	if err != nil {
		t.Fatalf("starting git server: %v", err)
	}
	s.run = run
}

// listen opens the HTTP, HTTPS and SSH listeners and starts serving. The
// caller holds s.mu.
func (s *GitServer) listen() (*gitServerRun, error) {
	lns, err := gitServerListen(s.httpAddr, s.httpsAddr, s.sshAddr)
	if err != nil {
		return nil, err
	}
	httpLn, httpsLn, sshLn := lns[0], lns[1], lns[2]
	s.httpAddr, s.httpsAddr, s.sshAddr = httpLn.Addr().String(), httpsLn.Addr().String(), sshLn.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	run := &gitServerRun{ctx: ctx, cancel: cancel, sshLn: sshLn, conns: map[net.Conn]struct{}{}}
	handler := s.httpHandler(run)
	run.httpSrv = s.httpServer(run, handler, "http: ")
	run.httpsSrv = s.httpServer(run, handler, "https: ")
	run.httpsSrv.TLSConfig = s.tls.config()
	run.wg.Add(3)
	go func() {
		defer run.wg.Done()
		_ = run.httpSrv.Serve(httpLn)
	}()
	go func() {
		defer run.wg.Done()
		_ = run.httpsSrv.ServeTLS(httpsLn, "", "") // the certificate is in TLSConfig
	}()
	go s.serveSSH(run, sshLn)
	return run, nil
}

// gitServerListen listens on every address, or on none if one fails.
func gitServerListen(addrs ...string) ([]net.Listener, error) {
	lns := make([]net.Listener, 0, len(addrs))
	for _, addr := range addrs {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			for _, l := range lns {
				_ = l.Close()
			}
			return nil, fmt.Errorf("listening on %s: %w", addr, err)
		}
		lns = append(lns, ln)
	}
	return lns, nil
}

// Stop stops every protocol, closes open connections, kills running git
// processes and waits for them. The ports stay reserved for Start. Stop is
// safe to call more than once.
func (s *GitServer) Stop() {
	s.mu.Lock()
	run := s.run
	s.run = nil
	s.mu.Unlock()
	if run == nil {
		return
	}
	run.mu.Lock()
	run.closed = true
	conns := run.conns
	run.conns = nil
	run.mu.Unlock()

	run.cancel()
	_ = run.httpSrv.Close()
	_ = run.httpsSrv.Close()
	_ = run.sshLn.Close()
	for c := range conns {
		_ = c.Close()
	}
	run.wg.Wait()
}

// track registers one unit of work that Stop waits for. It reports false
// once the run is stopping; the caller must then not start the work.
func (r *gitServerRun) track() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return false
	}
	r.wg.Add(1)
	return true
}

// addConn tracks a connection so that Stop can close it.
func (r *gitServerRun) addConn(c net.Conn) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return false
	}
	r.conns[c] = struct{}{}
	r.wg.Add(1)
	return true
}

// dropConn closes a tracked connection and marks its work done.
func (r *gitServerRun) dropConn(c net.Conn) {
	_ = c.Close()
	r.mu.Lock()
	delete(r.conns, c)
	r.mu.Unlock()
	r.wg.Done()
}

// HTTPURL is the smart HTTP URL of repository repo, for example
// http://127.0.0.1:PORT/repo.git.
func (s *GitServer) HTTPURL(repo string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return "http://" + s.httpAddr + "/" + repo + ".git"
}

// SSHURL is the SSH URL of repository repo, for example
// ssh://git@127.0.0.1:PORT/repo.git.
func (s *GitServer) SSHURL(repo string) string {
	return "ssh://git@" + s.SSHAddr() + "/" + repo + ".git"
}

// SCPURL is the scp-like SSH address of repository repo in go-git's form with
// a port, git@127.0.0.1:PORT:repo.git. The server receives a relative path.
func (s *GitServer) SCPURL(repo string) string {
	host, port, _ := strings.Cut(s.SSHAddr(), ":")
	return "git@" + host + ":" + port + ":" + repo + ".git"
}

// SSHAddr is the host:port the SSH server listens on.
func (s *GitServer) SSHAddr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sshAddr
}

// Username is the HTTP basic auth user name.
func (s *GitServer) Username() string { return s.username }

// Password is the HTTP basic auth password.
func (s *GitServer) Password() string { return s.password }

// Token is a bearer token the HTTP server accepts instead of basic auth.
func (s *GitServer) Token() string { return s.token }

// ClientPrivateKeyPEM is an authorized ed25519 client key in OpenSSH PEM
// form, as go-git's ssh.NewPublicKeys and ssh.ParsePrivateKey accept it.
func (s *GitServer) ClientPrivateKeyPEM() []byte {
	return append([]byte(nil), s.clientPEM...)
}

// AuthorizeKey makes the SSH server accept one more client public key.
func (s *GitServer) AuthorizeKey(key ssh.PublicKey) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.authorized[string(key.Marshal())] = true
}

// HostPublicKey is the SSH server's host key.
func (s *GitServer) HostPublicKey() ssh.PublicKey { return s.hostKey.PublicKey() }

// KnownHosts is a known_hosts line for the SSH server, keyed by
// "[127.0.0.1]:PORT" as SSH clients look it up for SSHURL and SCPURL.
func (s *GitServer) KnownHosts() []byte {
	line := knownhosts.Line([]string{knownhosts.Normalize(s.SSHAddr())}, s.hostKey.PublicKey())
	return []byte(line + "\n")
}

// RepoDir is the directory of the bare repository repo on disk.
func (s *GitServer) RepoDir(repo string) string {
	return filepath.Join(s.root, filepath.FromSlash(repo)+".git")
}
