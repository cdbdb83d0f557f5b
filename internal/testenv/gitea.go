package testenv

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"
)

// Gitea is a real Gitea server, pinned in hack/tools/gitea, running on
// loopback with its own sqlite database in a temporary directory.
type Gitea struct {
	// URL is the server's base address, without a trailing slash.
	URL string
	// User is an admin user, and Token an access token of it with every
	// scope.
	User, Token string
	bin, dir    string
	env         []string
}

// GiteaBin returns the directory holding the gitea binary and, under
// static/, the templates and options it reads from disk, building them the
// first time with hack/gitea.sh into a cache outside the repository.
func GiteaBin(ctx context.Context) (string, error) {
	root, err := moduleRoot(ctx)
	if err != nil {
		return "", err
	}
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, filepath.Join(root, "hack", "gitea.sh"))
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("building gitea: %w\n%s", err, stderr.String())
	}
	return strings.TrimSpace(string(out)), nil
}

// StartGitea starts a Gitea server with an admin user and a token, and
// stops it when the test ends (showing its log if the test failed). Webhooks
// may be delivered to loopback addresses; there is no SSH server and no
// mailer.
func StartGitea(t testing.TB) *Gitea {
	t.Helper()
	bin, err := GiteaBin(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	u, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	port := freePort(t)
	dir := t.TempDir()
	// HOME keeps the user's git configuration away from Gitea's git calls.
	g := &Gitea{URL: "http://127.0.0.1:" + port, User: "capstan", bin: bin, dir: dir,
		env: append(os.Environ(), "HOME="+dir, "GITEA_WORK_DIR="+dir)}
	if os.Getuid() == 0 {
		// Gitea refuses to run as root unless told (CI runs as root).
		g.env = append(g.env, "GITEA_I_AM_BEING_UNSAFE_RUNNING_AS_ROOT=true")
	}
	ini := giteaConfig(dir, filepath.Join(bin, "static"), u.Username, port)
	if err := os.WriteFile(filepath.Join(dir, "app.ini"), []byte(ini), 0o600); err != nil {
		t.Fatal(err)
	}
	// Gitea's own commands create the database and the admin user before
	// the server starts.
	g.run(t, "migrate")
	g.run(t, "admin", "user", "create", "--username", g.User, "--password", gitServerRandom(16),
		"--email", "capstan@example.invalid", "--admin", "--must-change-password=false")
	g.Token = g.AccessToken(t, "admin", "all")

	logs := &Buffer{}
	cmd := exec.Command(filepath.Join(bin, "gitea"), "web", "--config", filepath.Join(dir, "app.ini"), "--work-path", dir)
	cmd.Env, cmd.Dir, cmd.Stdout, cmd.Stderr = g.env, dir, logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting gitea: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("gitea logs:\n%s", logs.Tail(6000))
		}
	})
	var last error
	err = wait.PollUntilContextTimeout(t.Context(), 100*time.Millisecond, 2*time.Minute, true, func(ctx context.Context) (bool, error) {
		last = g.API(ctx, http.MethodGet, "/version", nil, nil)
		return last == nil, nil
	})
	if err != nil {
		t.Fatalf("gitea did not answer at %s: %v (last: %v)", g.URL, err, last)
	}
	return g
}

// giteaConfig is the app.ini of a test server.
func giteaConfig(dir, static, runUser, port string) string {
	return fmt.Sprintf(`APP_NAME = capstan-test
RUN_USER = %[3]s
RUN_MODE = prod
WORK_PATH = %[1]s

[server]
PROTOCOL = http
HTTP_ADDR = 127.0.0.1
HTTP_PORT = %[4]s
ROOT_URL = http://127.0.0.1:%[4]s/
STATIC_ROOT_PATH = %[2]s
APP_DATA_PATH = %[1]s/data
DISABLE_SSH = true
START_SSH_SERVER = false
LFS_START_SERVER = false
OFFLINE_MODE = true

[database]
DB_TYPE = sqlite3
PATH = %[1]s/data/gitea.db

[repository]
ROOT = %[1]s/repos

[security]
INSTALL_LOCK = true
SECRET_KEY = %[5]s
INTERNAL_TOKEN = %[6]s

[oauth2]
ENABLED = false

[service]
DISABLE_REGISTRATION = true

[webhook]
ALLOWED_HOST_LIST = loopback
DELIVER_TIMEOUT = 10

[mailer]
ENABLED = false

[actions]
ENABLED = false

[cache]
ADAPTER = memory

[session]
PROVIDER = memory

[log]
MODE = console
LEVEL = Warn
ROOT_PATH = %[1]s/log
`, dir, static, runUser, port, gitServerRandom(32), gitServerRandom(32))
}

// run runs the gitea command args (such as "admin", "user", ...) and
// returns its output.
func (g *Gitea) run(t testing.TB, args ...string) string {
	t.Helper()
	args = append(args, "--config", filepath.Join(g.dir, "app.ini"), "--work-path", g.dir)
	cmd := exec.CommandContext(t.Context(), filepath.Join(g.bin, "gitea"), args...)
	cmd.Env, cmd.Dir = g.env, g.dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("gitea %s: %v\n%s%s", strings.Join(args[:min(3, len(args))], " "), err, out, stderr.String())
	}
	return string(out)
}

// AccessToken makes a new token of the admin user, named name, with the
// comma-separated scopes ("all", "write:repository", ...).
func (g *Gitea) AccessToken(t testing.TB, name, scopes string) string {
	t.Helper()
	out := strings.TrimSpace(g.run(t, "admin", "user", "generate-access-token", "--username", g.User,
		"--token-name", name, "--scopes", scopes, "--raw"))
	// Gitea logs to stdout too (as root, a warning first): the token is the
	// last line.
	return out[strings.LastIndexByte(out, '\n')+1:]
}

// CloneURL is the HTTP address of the admin user's repository repo.
func (g *Gitea) CloneURL(repo string) string { return g.URL + "/" + g.User + "/" + repo + ".git" }

// API calls Gitea's REST API at /api/v1+path with the admin token, sends in
// as JSON unless nil, and decodes the answer into out unless nil. A status
// other than 2xx is an error that quotes the answer.
func (g *Gitea) API(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		data, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("encoding %s %s: %w", method, path, err)
		}
		body = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, method, g.URL+"/api/v1"+path, body)
	if err != nil {
		return fmt.Errorf("gitea %s %s: %w", method, path, err)
	}
	req.Header.Set("Authorization", "token "+g.Token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("gitea %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("gitea %s %s: %w", method, path, err)
	}
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("gitea %s %s: %s: %s", method, path, resp.Status, bytes.TrimSpace(data))
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("decoding gitea %s %s: %w", method, path, err)
	}
	return nil
}

// freePort returns a loopback TCP port no one listens on now.
func freePort(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
}
