package ui

import (
	"bufio"
	"context"
	"encoding/base64"
	"errors"
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	capstanv1 "github.com/capstan-gitops/capstan/api/v1"
)

func TestCheckAddress(t *testing.T) {
	t.Parallel()
	tests := []struct {
		addr        string
		allowRemote bool
		remote      bool
		refused     bool
	}{
		{addr: "127.0.0.1:0"},
		{addr: "127.0.0.2:8080"},
		{addr: "[::1]:8080"},
		{addr: "localhost:9000"},
		{addr: "0.0.0.0:8080", remote: true, refused: true},
		{addr: ":8080", remote: true, refused: true},
		{addr: "192.168.1.2:80", remote: true, refused: true},
		{addr: "0.0.0.0:8080", allowRemote: true, remote: true},
		{addr: "no-port", refused: true},
	}
	for _, tt := range tests {
		t.Run(tt.addr, func(t *testing.T) {
			t.Parallel()
			remote, err := CheckAddress(tt.addr, tt.allowRemote)
			if (err != nil) != tt.refused || remote != tt.remote {
				t.Errorf("CheckAddress(%q, %v) = %v, %v; want remote %v, refused %v", tt.addr, tt.allowRemote, remote, err, tt.remote, tt.refused)
			}
			if tt.remote && tt.refused && !errors.Is(err, ErrRemote) {
				t.Errorf("error %v is not ErrRemote", err)
			}
		})
	}
}

// TestUI runs the dashboard against a real control plane and git server.
func TestUI(t *testing.T) {
	w := newWorld(t)
	s := w.serve(t, Options{})
	t.Run("security", func(t *testing.T) { testSecurity(t, w, s) })
	t.Run("session shows no secret", func(t *testing.T) { testSession(t, w, s) })
	t.Run("read-only", func(t *testing.T) { testReadOnly(t, w) })
	t.Run("events follow changes", func(t *testing.T) { testEvents(t, w, s) })
	t.Run("actions", func(t *testing.T) { testActions(t, w, s) })
}

func testSecurity(t *testing.T, w *world, s *served) {
	host := strings.TrimPrefix(s.url, "http://")
	_, port, _ := strings.Cut(host, ":")
	csrf := "csrf=" + s.srv.guard.csrf
	sync := "/syncs/" + w.ns + "/app"
	tests := []struct {
		name, method, path, form string
		cookie                   bool
		edit                     func(*http.Request)
		code                     int
	}{
		{name: "no cookie", method: "GET", path: "/", code: http.StatusUnauthorized},
		{name: "no cookie, static file", method: "GET", path: "/static/app.js", code: http.StatusUnauthorized},
		{name: "no cookie, event stream", method: "GET", path: "/events", code: http.StatusUnauthorized},
		{name: "wrong cookie", method: "GET", path: "/", edit: func(r *http.Request) { r.AddCookie(&http.Cookie{Name: cookieName, Value: "guess"}) }, code: http.StatusUnauthorized},
		{name: "wrong token in URL", method: "GET", path: "/?token=guess", code: http.StatusUnauthorized},
		{name: "foreign Host (DNS rebinding)", method: "GET", path: "/", cookie: true, edit: func(r *http.Request) { r.Host = "evil.example:" + port }, code: http.StatusMisdirectedRequest},
		{name: "foreign Host with the token", method: "GET", path: "/?token=" + s.srv.guard.token, edit: func(r *http.Request) { r.Host = "evil.example" }, code: http.StatusMisdirectedRequest},
		{name: "localhost Host", method: "GET", path: "/", cookie: true, edit: func(r *http.Request) { r.Host = "localhost:" + port }, code: http.StatusOK},
		{name: "bound Host", method: "GET", path: "/", cookie: true, code: http.StatusOK},
		{name: "POST without CSRF token", method: "POST", path: sync + "/suspend", form: "x=1", cookie: true, code: http.StatusForbidden},
		{name: "POST with a wrong CSRF token", method: "POST", path: sync + "/suspend", form: "csrf=guess", cookie: true, code: http.StatusForbidden},
		{name: "POST from a foreign origin", method: "POST", path: sync + "/suspend", form: csrf, cookie: true, edit: func(r *http.Request) { r.Header.Set("Origin", "http://evil.example") }, code: http.StatusForbidden},
		{name: "POST from an opaque origin", method: "POST", path: sync + "/suspend", form: csrf, cookie: true, edit: func(r *http.Request) { r.Header.Set("Origin", "null") }, code: http.StatusForbidden},
		{name: "POST without cookie", method: "POST", path: sync + "/suspend", form: csrf, code: http.StatusUnauthorized},
		{name: "action by GET", method: "GET", path: sync + "/suspend", cookie: true, code: http.StatusMethodNotAllowed},
		{name: "PUT", method: "PUT", path: sync + "/suspend", form: csrf, cookie: true, code: http.StatusMethodNotAllowed},
		{name: "Sync outside the namespace", method: "GET", path: "/syncs/kube-system/app", cookie: true, code: http.StatusNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := s.do(t, tt.method, tt.path, tt.form, tt.cookie, tt.edit)
			if resp.StatusCode != tt.code {
				t.Errorf("%s %s: status %d, want %d: %s", tt.method, tt.path, resp.StatusCode, tt.code, body)
			}
			if got := resp.Header.Get("Content-Security-Policy"); got != csp {
				t.Errorf("Content-Security-Policy %q, want %q", got, csp)
			}
			if got := resp.Header.Get("Referrer-Policy"); got != "same-origin" {
				t.Errorf("Referrer-Policy %q, want same-origin", got)
			}
		})
	}
	if got := w.get(t, "app"); got.Spec.Suspend {
		t.Error("a refused POST suspended the Sync")
	}
	t.Run("token sets a strict cookie and leaves the URL", func(t *testing.T) {
		resp, _ := s.do(t, "GET", "/syncs/"+w.ns+"/app?token="+s.srv.guard.token, "", false, nil)
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/syncs/"+w.ns+"/app" {
			t.Fatalf("status %d, Location %q", resp.StatusCode, resp.Header.Get("Location"))
		}
		cookies := resp.Cookies()
		if len(cookies) != 1 || cookies[0].Name != cookieName || cookies[0].Value != s.srv.guard.token ||
			!cookies[0].HttpOnly || cookies[0].SameSite != http.SameSiteStrictMode || cookies[0].Path != "/" {
			t.Errorf("cookies %+v, want one HttpOnly SameSite=Strict session cookie", cookies)
		}
	})
}

func testSession(t *testing.T, w *world, s *served) {
	sync := "/syncs/" + w.ns + "/app"
	pages := []struct {
		path string
		want []string
	}{
		{"/", []string{"✓ Ready", ">app<", ">base<", "needs base", strings.TrimPrefix(w.git.HTTPURL("app"), "http://")[:8], "1.2s"}},
		{"/?part=live", []string{"✓ Ready"}},
		{sync, []string{`data-state="Ready"`, "ConfigMap", ">cfg<", ">creds<", ">web<", "app/config.yaml", "app/web.yaml", "Depends on", `href="/syncs/` + w.ns + `/base"`, "Sync now", "Applied revision"}},
		{"/syncs/" + w.ns + "/base", []string{"needed by", "No recent events"}},
		{sync + "/diff", []string{"ConfigMap/" + w.ns + "/cfg", "-  greeting: drifted", "+  greeting: hello", "Secret/" + w.ns + "/creds"}},
		{sync + "/confirm/reconcile", []string{`name="csrf"`, "Yes, Sync now"}},
		{"/static/app.js", []string{"EventSource"}},
		{"/static/style.css", []string{".badge"}},
		{"/syncs/" + w.ns + "/missing", []string{"sync not found"}},
	}
	var all strings.Builder
	for _, p := range pages {
		resp, body := s.do(t, "GET", p.path, "", true, nil)
		all.WriteString(body)
		body = html.UnescapeString(body)
		all.WriteString(body)
		for _, want := range p.want {
			if !strings.Contains(body, want) {
				t.Errorf("GET %s (%d) lacks %q:\n%s", p.path, resp.StatusCode, want, body)
			}
		}
	}
	for _, secret := range []string{gitSecretValue, clusterSecretValue, w.git.Password(), s.srv.guard.token} {
		for _, form := range []string{secret, base64.StdEncoding.EncodeToString([]byte(secret))} {
			if strings.Contains(all.String(), form) {
				t.Errorf("a response of the session holds the secret %q", form)
			}
		}
	}
}

func testReadOnly(t *testing.T, w *world) {
	s := w.serve(t, Options{ReadOnly: true})
	sync := "/syncs/" + w.ns + "/app"
	if _, body := s.do(t, "GET", sync, "", true, nil); strings.Contains(body, "Sync now") || strings.Contains(body, "Suspend") || !strings.Contains(body, "read-only") {
		t.Errorf("read-only page shows actions:\n%s", body)
	}
	if resp, _ := s.do(t, "GET", sync+"/confirm/suspend", "", true, nil); resp.StatusCode != http.StatusForbidden {
		t.Errorf("read-only confirm page: status %d", resp.StatusCode)
	}
	if resp, _ := s.do(t, "POST", sync+"/suspend", "csrf="+s.srv.guard.csrf, true, nil); resp.StatusCode != http.StatusForbidden {
		t.Errorf("read-only POST: status %d", resp.StatusCode)
	}
	if w.get(t, "app").Spec.Suspend {
		t.Error("a read-only UI suspended the Sync")
	}
}

func testEvents(t *testing.T, w *world, s *served) {
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", s.url+"/events?sync="+url.QueryEscape(w.ns+"/app"), nil)
	req.AddCookie(&http.Cookie{Name: cookieName, Value: s.srv.guard.token})
	resp, err := s.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("Content-Type %q", ct)
	}
	lines := bufio.NewScanner(resp.Body)
	// Once its watches began, the stream says "change" once, for what
	// changed before them.
	for lines.Scan() && lines.Text() != "event: change" {
	}
	time.Sleep(time.Second)
	s2 := w.get(t, "base")
	s2.Annotations = map[string]string{"test": "changed"}
	if err := w.c.Update(t.Context(), s2); err != nil {
		t.Fatal(err)
	}
	for lines.Scan() {
		if lines.Text() == "event: change" {
			return
		}
	}
	t.Fatalf("no change event after a Sync changed: %v", lines.Err())
}

func testActions(t *testing.T, w *world, s *served) {
	sync := "/syncs/" + w.ns + "/app"
	csrf := "csrf=" + s.srv.guard.csrf
	post := func(action string) {
		t.Helper()
		resp, body := s.do(t, "POST", sync+"/"+action, csrf, true, func(r *http.Request) { r.Header.Set("Origin", s.url) })
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != sync+"?done="+action {
			t.Fatalf("POST %s: status %d, Location %q: %s", action, resp.StatusCode, resp.Header.Get("Location"), body)
		}
	}
	post("reconcile")
	if got := w.get(t, "app"); got.Annotations[capstanv1.ReconcileRequestAnnotation] == "" {
		t.Error("sync now set no reconcile request")
	}
	s.eventually(t, sync+"?done=reconcile", "waiting for the controller", "Sync requested")
	post("suspend")
	if !w.get(t, "app").Spec.Suspend {
		t.Error("suspend did not suspend")
	}
	s.eventually(t, sync, "‖ Suspended", `id="resume"`)
	before := w.get(t, "app").Annotations[capstanv1.ReconcileRequestAnnotation]
	post("resume")
	if got := w.get(t, "app"); got.Spec.Suspend || got.Annotations[capstanv1.ReconcileRequestAnnotation] == before {
		t.Errorf("resume: suspend %v, request %q (before %q)", got.Spec.Suspend, got.Annotations[capstanv1.ReconcileRequestAnnotation], before)
	}
}

func (w *world) get(t *testing.T, name string) *capstanv1.Sync {
	t.Helper()
	s := &capstanv1.Sync{}
	if err := w.c.Get(t.Context(), client.ObjectKey{Namespace: w.ns, Name: name}, s); err != nil {
		t.Fatal(err)
	}
	return s
}

// eventually GETs path until its body holds every one of want: the page
// reads Syncs from a cache that follows the API server within moments.
func (s *served) eventually(t *testing.T, path string, want ...string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, body := s.do(t, "GET", path, "", true, nil)
		missing := ""
		for _, w := range want {
			if !strings.Contains(body, w) {
				missing = w
			}
		}
		if missing == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET %s lacks %q:\n%s", path, missing, body)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
