package ui

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"strings"
)

// cookieName holds the session token once the browser presented it in the
// printed URL.
const cookieName = "capstan_session"

// csp allows only the server's own script and style sheet: no inline code,
// no frames, no other origin.
const csp = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; " +
	"form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// guard is the security of the UI: every request must name the bound
// address in its Host header (no DNS rebinding) and carry the session
// token, state-changing requests must be POSTs with the CSRF token, and
// every answer carries a strict Content-Security-Policy.
type guard struct {
	// hosts are the Host header values accepted.
	hosts map[string]bool
	token string
	csrf  string
}

// newGuard returns the guard of a server bound to addr (host:port) with a
// session token (random when empty).
func newGuard(addr, token string) (*guard, error) {
	if token == "" {
		var err error
		if token, err = randomToken(); err != nil {
			return nil, err
		}
	}
	csrf, err := randomToken()
	if err != nil {
		return nil, err
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("reading address %s: %w", addr, err)
	}
	hosts := map[string]bool{net.JoinHostPort(host, port): true}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		hosts[net.JoinHostPort("localhost", port)] = true
	}
	return &guard{hosts: hosts, token: token, csrf: csrf}, nil
}

func randomToken() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("making a session token: %w", err)
	}
	return hex.EncodeToString(b), nil
}

// wrap applies the guard to next.
func (g *guard) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", csp)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		// same-origin, not no-referrer: under no-referrer a browser sends
		// "Origin: null" with a form's POST, which sameOrigin refuses.
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Cache-Control", "no-store")
		if !g.hosts[strings.ToLower(r.Host)] {
			http.Error(w, "refused: unexpected Host header", http.StatusMisdirectedRequest)
			return
		}
		if t := r.URL.Query().Get("token"); t != "" && r.Method == http.MethodGet {
			g.login(w, r, t)
			return
		}
		c, err := r.Cookie(cookieName)
		if err != nil || !equal(c.Value, g.token) {
			http.Error(w, "refused: no session; open the URL capstan ui printed", http.StatusUnauthorized)
			return
		}
		switch r.Method {
		case http.MethodGet, http.MethodHead:
		case http.MethodPost:
			if !g.sameOrigin(r) || !equal(r.PostFormValue("csrf"), g.csrf) {
				http.Error(w, "refused: missing or wrong CSRF token", http.StatusForbidden)
				return
			}
		default:
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// login sets the session cookie for a correct token and sends the browser
// to the same page without the token in its address.
func (g *guard) login(w http.ResponseWriter, r *http.Request, token string) {
	if !equal(token, g.token) {
		http.Error(w, "refused: wrong session token", http.StatusUnauthorized)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: g.token, Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode})
	u := *r.URL
	q := u.Query()
	q.Del("token")
	u.RawQuery = q.Encode()
	http.Redirect(w, r, u.RequestURI(), http.StatusSeeOther)
}

// sameOrigin refuses a POST whose Origin header, when the browser sent
// one, is not this server.
func (g *guard) sameOrigin(r *http.Request) bool {
	o := r.Header.Get("Origin")
	if o == "" {
		return true
	}
	host, ok := strings.CutPrefix(o, "http://")
	return ok && g.hosts[strings.ToLower(host)]
}

func equal(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}
