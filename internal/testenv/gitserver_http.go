package testenv

import (
	"crypto/subtle"
	"log"
	"net"
	"net/http"
	"net/http/cgi"
	"strings"
	"time"
)

// httpServer serves handler for one run. Stop waits for its connections
// too, not only for its requests, so that errors the server logs about a
// connection (a refused TLS handshake) never reach a finished test's log.
func (s *GitServer) httpServer(run *gitServerRun, handler http.Handler, logPrefix string) *http.Server {
	return &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          s.logger(logPrefix),
		ConnState: func(_ net.Conn, state http.ConnState) {
			// StateNew runs in the Serve goroutine, which run.wg still
			// counts, and every new connection ends closed or hijacked.
			switch state {
			case http.StateNew:
				run.wg.Add(1)
			case http.StateClosed, http.StateHijacked:
				run.wg.Done()
			}
		},
	}
}

// httpHandler serves git http-backend as CGI behind basic or bearer auth.
func (s *GitServer) httpHandler(run *gitServerRun) http.Handler {
	backend := &cgi.Handler{
		Path:       s.gitPath,
		Args:       []string{"http-backend"},
		Dir:        s.root,
		Env:        append(s.gitEnv(), "GIT_PROJECT_ROOT="+s.root, "GIT_HTTP_EXPORT_ALL=1"),
		InheritEnv: []string{"PATH"},
		Logger:     s.logger("cgi: "),
		Stderr:     gitServerLog{s: s, prefix: "http-backend: "},
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !run.track() {
			http.Error(w, "server stopping", http.StatusServiceUnavailable)
			return
		}
		defer run.wg.Done()
		if !s.httpAuthorized(r) {
			w.Header().Set("WWW-Authenticate", `Basic realm="capstan-testenv"`)
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		s.counts.count(r)
		if strings.HasSuffix(r.URL.Path, "/git-upload-pack") {
			w = s.cuts.wrap(w)
		}
		backend.ServeHTTP(w, r)
	})
}

// httpAuthorized checks the request's basic credentials or bearer token.
func (s *GitServer) httpAuthorized(r *http.Request) bool {
	if user, pass, ok := r.BasicAuth(); ok {
		return gitServerEqual(user, s.username) && gitServerEqual(pass, s.password)
	}
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	return ok && gitServerEqual(token, s.token)
}

// gitServerEqual compares secrets in constant time.
func gitServerEqual(got, want string) bool {
	return subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

// gitEnv isolates git processes from the user's and the system's config and
// enables pushes over HTTP.
func (s *GitServer) gitEnv() []string {
	return []string{
		"HOME=" + s.root,
		"GIT_CONFIG_NOSYSTEM=1",
		"GIT_CONFIG_GLOBAL=/dev/null",
		"GIT_CONFIG_COUNT=1",
		"GIT_CONFIG_KEY_0=http.receivepack",
		"GIT_CONFIG_VALUE_0=true",
	}
}

// logger is a standard logger that writes to the test log.
func (s *GitServer) logger(prefix string) *log.Logger {
	return log.New(gitServerLog{s: s, prefix: prefix}, "", 0)
}

// gitServerLog writes lines to the log of the test that owns the server.
// Stop waits for every goroutine that writes here, and the test's cleanup
// calls Stop, so nothing logs after the test has finished.
type gitServerLog struct {
	s      *GitServer
	prefix string
}

func (l gitServerLog) Write(p []byte) (int, error) {
	l.s.t.Logf("git server: %s%s", l.prefix, strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
