package testenv

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/crypto/ssh"
)

// errGitServerBadPath is returned for every repository path the SSH server
// refuses, so that clients cannot probe the file system.
var errGitServerBadPath = errors.New("not a repository on this server")

// serveSSH accepts SSH connections until the listener closes.
func (s *GitServer) serveSSH(run *gitServerRun, ln net.Listener) {
	defer run.wg.Done()
	cfg := &ssh.ServerConfig{PublicKeyCallback: s.checkClientKey}
	cfg.AddHostKey(s.hostKey)
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		if !run.addConn(c) {
			_ = c.Close()
			return
		}
		go s.serveSSHConn(run, c, cfg)
	}
}

// checkClientKey accepts only authorized public keys.
func (s *GitServer) checkClientKey(_ ssh.ConnMetadata, key ssh.PublicKey) (*ssh.Permissions, error) {
	s.mu.Lock()
	ok := s.authorized[string(key.Marshal())]
	s.mu.Unlock()
	if !ok {
		return nil, errors.New("unauthorized public key")
	}
	return &ssh.Permissions{}, nil
}

// serveSSHConn runs the handshake and serves session channels.
func (s *GitServer) serveSSHConn(run *gitServerRun, c net.Conn, cfg *ssh.ServerConfig) {
	defer run.dropConn(c)
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	conn, chans, reqs, err := ssh.NewServerConn(c, cfg)
	if err != nil {
		return // failed handshakes, including refused keys, just end here
	}
	_ = c.SetDeadline(time.Time{})
	defer func() { _ = conn.Close() }()
	go ssh.DiscardRequests(reqs)
	for nc := range chans {
		if nc.ChannelType() != "session" {
			_ = nc.Reject(ssh.UnknownChannelType, "only session channels are supported")
			continue
		}
		ch, chReqs, err := nc.Accept()
		if err != nil {
			continue
		}
		if !run.track() {
			_ = ch.Close()
			continue
		}
		go func() {
			defer run.wg.Done()
			s.serveSSHSession(run.ctx, ch, chReqs)
		}()
	}
}

// serveSSHSession waits for one exec request, runs it and reports its exit
// status. Other requests (env, pty-req, shell) are refused.
func (s *GitServer) serveSSHSession(ctx context.Context, ch ssh.Channel, reqs <-chan *ssh.Request) {
	defer func() { _ = ch.Close() }()
	for req := range reqs {
		var payload struct{ Command string }
		if req.Type != "exec" || ssh.Unmarshal(req.Payload, &payload) != nil {
			if req.WantReply {
				_ = req.Reply(false, nil)
			}
			continue
		}
		_ = req.Reply(true, nil)
		go ssh.DiscardRequests(reqs)
		code := s.runSSHCommand(ctx, ch, payload.Command)
		status := struct{ Status uint32 }{code}
		_, _ = ch.SendRequest("exit-status", false, ssh.Marshal(&status))
		return
	}
}

// runSSHCommand runs git-upload-pack or git-receive-pack for a repository
// inside the root, wired to the channel, and returns the exit status.
func (s *GitServer) runSSHCommand(ctx context.Context, ch ssh.Channel, command string) uint32 {
	service, dir, err := s.parseSSHCommand(command)
	if err != nil {
		_, _ = fmt.Fprintf(ch.Stderr(), "fatal: %v\n", err)
		return 128
	}
	cmd := exec.CommandContext(ctx, s.gitPath, service, dir)
	cmd.Env = append(s.gitEnv(), "PATH="+os.Getenv("PATH"))
	cmd.Stdout = ch
	cmd.Stderr = ch.Stderr()
	stdin, err := cmd.StdinPipe()
	if err != nil {
		_, _ = fmt.Fprintf(ch.Stderr(), "fatal: %v\n", err)
		return 128
	}
	if err := cmd.Start(); err != nil {
		_, _ = fmt.Fprintf(ch.Stderr(), "fatal: %v\n", err)
		return 128
	}
	// Not cmd.Stdin: Wait would block until the client closes its side.
	go func() {
		_, _ = io.Copy(stdin, ch)
		_ = stdin.Close()
	}()
	var exitErr *exec.ExitError
	switch err := cmd.Wait(); {
	case err == nil:
		return 0
	case errors.As(err, &exitErr) && exitErr.ExitCode() > 0:
		return uint32(exitErr.ExitCode())
	default:
		return 255
	}
}

// parseSSHCommand turns an exec request such as git-upload-pack '/repo.git'
// into a git subcommand and the repository directory it may touch.
func (s *GitServer) parseSSHCommand(command string) (service, dir string, err error) {
	verb, arg, _ := strings.Cut(command, " ")
	switch verb {
	case "git-upload-pack":
		service = "upload-pack"
	case "git-receive-pack":
		service = "receive-pack"
	default:
		return "", "", fmt.Errorf("unsupported command %q", verb)
	}
	p, err := gitServerDequote(arg)
	if err != nil {
		return "", "", err
	}
	// Refused and missing paths read the same, in the words git clients
	// recognise as "repository not found".
	notFound := fmt.Errorf("'%s' does not appear to be a git repository", p)
	rel, err := gitServerRepoPath(p)
	if err != nil {
		return "", "", notFound
	}
	if dir, err = gitServerResolve(s.root, rel); err != nil {
		return "", "", notFound
	}
	return service, dir, nil
}

// gitServerDequote undoes git's sq_quote: the argument is wrapped in single
// quotes, and single quotes and exclamation marks inside it are written as
// these escapes:
//
//	'\''
//	'\!'
func gitServerDequote(s string) (string, error) {
	rest, ok := strings.CutPrefix(s, "'")
	if !ok {
		return "", errors.New("repository path must be single-quoted")
	}
	var b strings.Builder
	for {
		i := strings.IndexByte(rest, '\'')
		if i < 0 {
			return "", errors.New("unterminated quote in repository path")
		}
		b.WriteString(rest[:i])
		rest = rest[i+1:]
		if rest == "" {
			return b.String(), nil
		}
		if len(rest) < 3 || rest[0] != '\\' || (rest[1] != '\'' && rest[1] != '!') || rest[2] != '\'' {
			return "", errors.New("malformed quoting in repository path")
		}
		b.WriteByte(rest[1])
		rest = rest[3:]
	}
}

// gitServerRepoPath maps the path a client asked for to a path relative to
// the repository root. ssh://host/repo.git asks for "/repo.git", scp-like
// host:repo.git for "repo.git", and either may start with "~/". Anything that
// could leave the root is refused.
func gitServerRepoPath(p string) (string, error) {
	rel := strings.TrimPrefix(p, "/")
	rel = strings.TrimPrefix(rel, "~/")
	if rel == "" || strings.ContainsAny(rel, "\x00\\") || strings.HasPrefix(rel, "-") {
		return "", errGitServerBadPath
	}
	for _, seg := range strings.Split(rel, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return "", errGitServerBadPath
		}
	}
	if !filepath.IsLocal(rel) {
		return "", errGitServerBadPath
	}
	return rel, nil
}

// gitServerResolve joins rel to root and checks, after resolving symlinks,
// that the result is a bare repository inside root.
func gitServerResolve(root, rel string) (string, error) {
	realRoot, err := filepath.EvalSymlinks(root)
	if err != nil {
		return "", err
	}
	dir, err := filepath.EvalSymlinks(filepath.Join(realRoot, filepath.FromSlash(rel)))
	if err != nil {
		return "", err
	}
	inside, err := filepath.Rel(realRoot, dir)
	if err != nil || !filepath.IsLocal(inside) {
		return "", errGitServerBadPath
	}
	if fi, err := os.Stat(filepath.Join(dir, "HEAD")); err != nil || !fi.Mode().IsRegular() {
		return "", errGitServerBadPath
	}
	return dir, nil
}
