// Package ui serves `capstan ui`: a web dashboard of the Syncs on loopback,
// talking to the cluster with the user's own kubeconfig. Pages are rendered
// on the server from embedded templates; a small embedded script follows
// server-sent events (from watches) to refresh the page's live part. Every
// request needs the session token of the printed URL and the bound Host;
// actions are confirmed POSTs with a CSRF token.
package ui

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"time"

	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/capstan-gitops/capstan/day2/diff"
	"github.com/capstan-gitops/capstan/internal/helm"
	"github.com/capstan-gitops/capstan/internal/kubeclient"
	"github.com/capstan-gitops/capstan/internal/source"
)

// DefaultAddress binds loopback on a free port.
const DefaultAddress = "127.0.0.1:0"

// Options configure the dashboard.
type Options struct {
	// Namespace of the Syncs shown; "" for every namespace.
	Namespace string
	// Address is host:port to listen on (default DefaultAddress).
	Address string
	// AllowRemote permits an address that is not loopback.
	AllowRemote bool
	// ReadOnly hides and refuses the actions.
	ReadOnly bool
	// Open starts the user's browser on the URL.
	Open bool
	// Token is the session token; empty makes a random one.
	Token string
}

// ErrRemote refuses a non-loopback address without AllowRemote.
var ErrRemote = errors.New("refusing to serve on a non-loopback address")

// CheckAddress refuses an address that is not loopback unless allowRemote.
// It returns whether the address is remote.
func CheckAddress(addr string, allowRemote bool) (bool, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false, &kubeclient.Error{Err: fmt.Errorf("reading --address %q: %w", addr, err), Next: "give host:port, such as 127.0.0.1:8080"}
	}
	if host == "localhost" {
		return false, nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return false, nil
	}
	if !allowRemote {
		return true, &kubeclient.Error{Err: fmt.Errorf("%w %s: anyone who reaches it could act with your kubeconfig", ErrRemote, addr),
			Next: "keep the default 127.0.0.1, or add --allow-remote if you mean it"}
	}
	return true, nil
}

// Run serves the dashboard until ctx is done. It prints the URL with its
// session token to out, and warnings to errOut.
func Run(ctx context.Context, c *kubeclient.Client, opts Options, out, errOut io.Writer) error {
	if opts.Address == "" {
		opts.Address = DefaultAddress
	}
	remote, err := CheckAddress(opts.Address, opts.AllowRemote)
	if err != nil {
		return err
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", opts.Address)
	if err != nil {
		return fmt.Errorf("listening on %s: %w", opts.Address, err)
	}
	work, err := os.MkdirTemp("", "capstan-ui-")
	if err != nil {
		ln.Close()
		return fmt.Errorf("creating work dir: %w", err)
	}
	defer os.RemoveAll(work)
	fetcher, err := source.NewGitFetcher(c, work)
	if err != nil {
		ln.Close()
		return err
	}
	// A page lists a few kinds and each open page watches a few: client-go's
	// default of 5 requests a second would make pages wait on the client.
	cfg := rest.CopyConfig(c.Config)
	cfg.QPS, cfg.Burst = 50, 100
	if c, err = kubeclient.ConnectConfig(ctx, cfg, 0); err != nil {
		ln.Close()
		return err
	}
	cached, err := SyncCache(ctx, c.Config, c.Scheme(), opts.Namespace)
	if err != nil {
		ln.Close()
		return kubeclient.Explain(err, "reading syncs", client.ObjectKey{Namespace: opts.Namespace})
	}
	srv, err := New(c, cached, opts, ln.Addr().String(), fetcher)
	if err != nil {
		ln.Close()
		return err
	}
	srv.caps = helm.DiscoverEach(c.Config)
	if remote {
		fmt.Fprintf(errOut, "warning: serving on %s, beyond this machine: whoever has the URL acts with your kubeconfig\n", ln.Addr())
	}
	url := srv.URL()
	fmt.Fprintf(out, "capstan ui: %s\n", url)
	if opts.Open {
		if err := openBrowser(ctx, url); err != nil {
			fmt.Fprintf(errOut, "warning: could not open a browser (%v): open the URL above\n", err)
		}
	}
	hs := &http.Server{Handler: srv.Handler(), ReadHeaderTimeout: 10 * time.Second, BaseContext: func(net.Listener) context.Context { return ctx }}
	done := make(chan error, 1)
	go func() { done <- hs.Serve(ln) }()
	select {
	case err := <-done:
		return fmt.Errorf("serving: %w", err)
	case <-ctx.Done():
	}
	shut, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	_ = hs.Shutdown(shut) // open event streams end with ctx
	return nil
}

// Server is the dashboard's handler and what it knows.
type Server struct {
	c client.WithWatch
	// cached reads Syncs (see SyncCache).
	cached  client.Reader
	opts    Options
	addr    string
	guard   *guard
	pages   *pages
	files   *declared
	fetcher diff.Fetcher
	// beat is how often the event stream beats (heartbeat).
	beat time.Duration
	// caps are the cluster's capabilities for the diff page's chart
	// renders; nil renders with Helm's defaults.
	caps func(context.Context) (*helm.Capabilities, error)
}

// New returns the dashboard of the cluster c served at addr (host:port, as
// bound), reading Syncs from cached and building sources with fetcher.
func New(c client.WithWatch, cached client.Reader, opts Options, addr string, fetcher diff.Fetcher) (*Server, error) {
	g, err := newGuard(addr, opts.Token)
	if err != nil {
		return nil, err
	}
	p, err := parsePages()
	if err != nil {
		return nil, err
	}
	return &Server{c: c, cached: cached, opts: opts, addr: addr, guard: g, pages: p, files: newDeclared(fetcher), fetcher: fetcher, beat: heartbeat}, nil
}

// URL is the address to open, with the session token.
func (s *Server) URL() string { return "http://" + s.addr + "/?token=" + s.guard.token }

// Handler serves every page behind the guard.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", s.overview)
	mux.HandleFunc("GET /syncs/{ns}/{name}", s.syncPage)
	mux.HandleFunc("GET /syncs/{ns}/{name}/diff", s.diffPage)
	mux.HandleFunc("GET /syncs/{ns}/{name}/confirm/{action}", s.confirm)
	mux.HandleFunc("POST /syncs/{ns}/{name}/{action}", s.act)
	mux.HandleFunc("GET /events", s.events)
	mux.Handle("GET /static/", http.FileServerFS(static))
	return s.guard.wrap(mux)
}
