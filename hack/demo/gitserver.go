package main

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log"
	"maps"
	"net"
	"net/http"
	"net/http/cgi"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	gogit "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"

	"github.com/capstan-gitops/capstan/internal/git"
)

// gitServer serves one bare repository over smart HTTP on loopback, with
// `git http-backend` behind basic auth, as a git host would.
type gitServer struct {
	URL      string
	Auth     git.Auth
	srv      *http.Server
	serveErr chan error
}

// serveGit creates the empty bare repository root/<name>.git and serves it.
// The backend's own messages go to logFile.
func serveGit(root, name string, logFile io.Writer) (*gitServer, error) {
	gitPath, err := exec.LookPath("git")
	if err != nil {
		return nil, fmt.Errorf("the demo serves its repository with `git http-backend`: install git: %w", err)
	}
	_, err = gogit.PlainInitWithOptions(filepath.Join(root, name+".git"), &gogit.PlainInitOptions{
		Bare: true, InitOptions: gogit.InitOptions{DefaultBranch: plumbing.Main},
	})
	if err != nil {
		return nil, fmt.Errorf("creating the bare repository: %w", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listening on loopback: %w", err)
	}
	auth := git.Auth{Username: "demo", Password: randomHex(16)}
	backend := &cgi.Handler{
		Path: gitPath,
		Args: []string{"http-backend"},
		Dir:  root,
		// Isolated from the user's git config; pushes allowed over HTTP.
		Env: []string{"GIT_PROJECT_ROOT=" + root, "GIT_HTTP_EXPORT_ALL=1", "HOME=" + root,
			"GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=" + os.DevNull,
			"GIT_CONFIG_COUNT=1", "GIT_CONFIG_KEY_0=http.receivepack", "GIT_CONFIG_VALUE_0=true"},
		InheritEnv: []string{"PATH"},
		Logger:     log.New(logFile, "git: ", 0),
		Stderr:     logFile,
	}
	s := &gitServer{
		URL:  "http://" + ln.Addr().String() + "/" + name + ".git",
		Auth: auth,
		srv: &http.Server{
			Handler:           basicAuth(auth, backend),
			ReadHeaderTimeout: 10 * time.Second,
			ErrorLog:          log.New(logFile, "git http: ", 0),
		},
		serveErr: make(chan error, 1),
	}
	go func() { s.serveErr <- s.srv.Serve(ln) }()
	return s, nil
}

// basicAuth lets through only requests with the server's credentials.
func basicAuth(a git.Auth, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, pass, ok := r.BasicAuth()
		if !ok || subtle.ConstantTimeCompare([]byte(user), []byte(a.Username)) != 1 ||
			subtle.ConstantTimeCompare([]byte(pass), []byte(a.Password)) != 1 {
			w.Header().Set("WWW-Authenticate", `Basic realm="capstan-demo"`)
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// Close stops the server and waits until it no longer serves.
func (s *gitServer) Close() error {
	err := s.srv.Close()
	if serveErr := <-s.serveErr; !errors.Is(serveErr, http.ErrServerClosed) && err == nil {
		err = serveErr
	}
	return err
}

// pushDirectory commits every file under dir, and the extra files, to
// branch main of the server, over HTTP, as a person pushing a new
// repository would. It returns the commit.
func (s *gitServer) pushDirectory(ctx context.Context, dir, cloneDir string, extra map[string][]byte) (string, error) {
	files, err := readFiles(dir)
	if err != nil {
		return "", err
	}
	maps.Copy(files, extra)
	ep, err := git.ParseURL(s.URL, false)
	if err != nil {
		return "", err
	}
	wt, err := git.OpenBranch(ctx, ep, s.Auth, "main", cloneDir)
	if err != nil {
		return "", err
	}
	if err := wt.WriteFiles(ctx, files); err != nil {
		return "", err
	}
	sha, _, err := wt.CommitIfChanged(ctx, git.Signature{Name: "Capstan demo", Email: "demo@capstan.invalid"}, "The course cluster, declared in git")
	if err != nil {
		return "", err
	}
	return sha, wt.Push(ctx)
}

// head reads the commit branch main points at, from the server as a client
// sees it.
func (s *gitServer) head(ctx context.Context) (string, error) {
	ep, err := git.ParseURL(s.URL, false)
	if err != nil {
		return "", err
	}
	rev, err := git.Resolve(ctx, ep, s.Auth, git.Ref{Branch: "main"})
	if err != nil {
		return "", err
	}
	return rev.Hash(), nil
}

// readFiles reads the regular files under dir, keyed by slash path.
func readFiles(dir string) (map[string][]byte, error) {
	files := map[string][]byte{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		data, err := os.ReadFile(p)
		files[filepath.ToSlash(rel)] = data
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", dir, err)
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("%s holds no files", dir)
	}
	return files, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms
	return hex.EncodeToString(b)
}
