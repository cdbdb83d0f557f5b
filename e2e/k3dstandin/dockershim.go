package k3dstandin

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
)

// Unprivileged is a Docker API endpoint in front of a local engine that
// runs k3d's containers and execs without --privileged. k3d makes every
// container privileged; an engine inside a sandbox whose capability
// bounding set is short of one (no CAP_SYS_RESOURCE, say) cannot start
// such a container ("unable to apply caps"). The stand-in images need no
// privilege, so the tests point capstan at this endpoint there. Every other
// request, streams and hijacked connections included, passes unchanged.
type Unprivileged struct {
	// Host is the endpoint to use as DOCKER_HOST (unix://…).
	Host string
	srv  *http.Server
}

var (
	createPath = regexp.MustCompile(`^(/v[0-9.]+)?/containers/create$`)
	execPath   = regexp.MustCompile(`^(/v[0-9.]+)?/containers/[^/]+/exec$`)
)

// StartUnprivileged listens on the unix socket path and forwards to the
// engine at daemonHost, which must be a unix:// endpoint.
func StartUnprivileged(path, daemonHost string) (*Unprivileged, error) {
	engine, ok := strings.CutPrefix(daemonHost, "unix://")
	if !ok {
		return nil, fmt.Errorf("unprivileged docker endpoint: %s is not a unix socket", daemonHost)
	}
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, fmt.Errorf("unprivileged docker endpoint: %w", err)
	}
	proxy := &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(&url.URL{Scheme: "http", Host: "docker"})
			r.Out.Host = "docker"
		},
		Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", engine)
		}},
		FlushInterval: -1,
	}
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && (createPath.MatchString(r.URL.Path) || execPath.MatchString(r.URL.Path)) {
			if err := dropPrivileged(r); err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
		}
		if isUpgrade(r) {
			tunnel(w, r, engine)
			return
		}
		proxy.ServeHTTP(w, r)
	})
	u := &Unprivileged{Host: "unix://" + path, srv: &http.Server{Handler: handler}}
	go func() { _ = u.srv.Serve(ln) }()
	return u, nil
}

// Close stops the endpoint and removes its socket.
func (u *Unprivileged) Close() error {
	err := u.srv.Close()
	_ = os.Remove(strings.TrimPrefix(u.Host, "unix://"))
	return err
}

// dropPrivileged turns Privileged off in a container-create body (under
// HostConfig) or an exec-create body (at the top).
func dropPrivileged(r *http.Request) error {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return err
	}
	var doc map[string]any
	if err := json.Unmarshal(body, &doc); err != nil {
		return fmt.Errorf("decoding %s: %w", r.URL.Path, err)
	}
	if hc, ok := doc["HostConfig"].(map[string]any); ok {
		hc["Privileged"] = false
	}
	if _, ok := doc["Privileged"]; ok {
		doc["Privileged"] = false
	}
	body, err = json.Marshal(doc)
	if err != nil {
		return errors.New("encoding request")
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.ContentLength = int64(len(body))
	r.Header.Set("Content-Length", strconv.Itoa(len(body)))
	return nil
}
