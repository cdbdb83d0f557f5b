package webhook

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"io"
	"mime"
	"net/http"
	"strings"
	"sync"

	"github.com/go-logr/logr"
	"golang.org/x/time/rate"

	capstanv1 "github.com/capstan-gitops/capstan/api/v1"
)

// Target is the Sync a webhook path belongs to.
type Target struct {
	// Name and Namespace of the Sync.
	Name, Namespace string
	// Branch or Tag it follows; both empty when it is pinned to a commit.
	Branch, Tag string
}

// Syncs finds the Sync behind a path and asks for its sync.
type Syncs interface {
	// Lookup returns the Sync whose published webhook path is path, and
	// false when there is none. It should be cheap (a cache read): it runs
	// before the rate limit.
	Lookup(ctx context.Context, path string) (Target, bool, error)
	// Token returns the webhook token of the Sync, nil when it has none.
	Token(ctx context.Context, t Target) ([]byte, error)
	// RequestSync asks the controller to sync the Sync now.
	RequestSync(ctx context.Context, name, namespace string) error
}

// Limits bound what one path may cost.
type Limits struct {
	// MaxBody is the largest body accepted, in bytes.
	MaxBody int64
	// Rate and Burst bound the requests per second to one path.
	Rate  rate.Limit
	Burst int
	// Remembered is how many recent bodies per path are kept to refuse
	// replays.
	Remembered int
}

// DefaultLimits are the limits of the controller's receiver.
func DefaultLimits() Limits {
	return Limits{MaxBody: 1 << 20, Rate: 2, Burst: 10, Remembered: 64}
}

// Handler serves webhook deliveries under PathPrefix.
type Handler struct {
	syncs  Syncs
	limits Limits
	log    logr.Logger

	mu    sync.Mutex
	paths map[string]*pathState
}

// pathState is what the handler keeps per known path.
type pathState struct {
	limiter *rate.Limiter
	seen    map[[sha256.Size]byte]struct{}
	order   [][sha256.Size]byte
}

// NewHandler returns a handler that requests syncs through syncs.
func NewHandler(syncs Syncs, limits Limits, log logr.Logger) *Handler {
	return &Handler{syncs: syncs, limits: limits, log: log, paths: map[string]*pathState{}}
}

// ServeHTTP answers one delivery. Refusals carry only a status code: 405
// (not a POST), 404 (unknown path), 429 (rate limit), 413 (body too large),
// 415 (not JSON), 401 (signature or token), 409 (a body seen before), 400
// (malformed payload), 500 (the sync could not be requested). A verified
// delivery that asks for nothing (a ping, another branch) gets 204; a sync
// request gets 202.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	code := h.serve(r)
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
}

func (h *Handler) serve(r *http.Request) int {
	if r.Method != http.MethodPost {
		return http.StatusMethodNotAllowed
	}
	ctx := r.Context()
	target, ok, err := h.syncs.Lookup(ctx, r.URL.Path)
	if err != nil {
		h.log.Error(err, "looking up webhook path")
		return http.StatusInternalServerError
	}
	if !ok || !strings.HasPrefix(r.URL.Path, capstanv1.WebhookPathPrefix) {
		return http.StatusNotFound
	}
	st := h.state(r.URL.Path)
	if !st.limiter.Allow() {
		return http.StatusTooManyRequests
	}
	body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, h.limits.MaxBody))
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		return http.StatusRequestEntityTooLarge
	case err != nil:
		return http.StatusBadRequest
	}
	if !isJSON(r.Header.Get("Content-Type")) {
		return http.StatusUnsupportedMediaType
	}
	token, err := h.syncs.Token(ctx, target)
	if err != nil {
		h.log.Error(err, "reading webhook token", "sync", target.Namespace+"/"+target.Name)
		return http.StatusInternalServerError
	}
	// The path must still be the one the token gives: a rotated token
	// retires the old path at once, before the status catches up.
	want := capstanv1.WebhookPath(string(token), target.Name, target.Namespace)
	if len(token) == 0 || subtle.ConstantTimeCompare([]byte(want), []byte(r.URL.Path)) != 1 {
		return http.StatusNotFound
	}
	sender := Detect(r.Header)
	if err := Verify(sender, r.Header, body, token); err != nil {
		return http.StatusUnauthorized
	}
	if !h.firstSeen(st, body) {
		return http.StatusConflict
	}
	ev, err := Parse(sender, r.Header, body)
	if err != nil {
		return http.StatusBadRequest
	}
	if ev.Kind != Push || !Matches(ev.Ref, target.Branch, target.Tag) {
		return http.StatusNoContent
	}
	if err := h.syncs.RequestSync(ctx, target.Name, target.Namespace); err != nil {
		h.log.Error(err, "requesting sync from webhook", "sync", target.Namespace+"/"+target.Name)
		return http.StatusInternalServerError
	}
	h.log.V(1).Info("sync requested by webhook", "sync", target.Namespace+"/"+target.Name, "sender", string(sender))
	return http.StatusAccepted
}

// isJSON reports whether a Content-Type names JSON.
func isJSON(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	return err == nil && (mt == "application/json" || strings.HasSuffix(mt, "+json"))
}

// state returns the state of a known path, created on first use.
func (h *Handler) state(path string) *pathState {
	h.mu.Lock()
	defer h.mu.Unlock()
	st, ok := h.paths[path]
	if !ok {
		st = &pathState{limiter: rate.NewLimiter(h.limits.Rate, h.limits.Burst), seen: map[[sha256.Size]byte]struct{}{}}
		h.paths[path] = st
	}
	return st
}

// firstSeen records body for the path and reports whether it is new among
// the last Remembered bodies: a replayed delivery is refused.
func (h *Handler) firstSeen(st *pathState, body []byte) bool {
	sum := sha256.Sum256(body)
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := st.seen[sum]; ok {
		return false
	}
	st.seen[sum] = struct{}{}
	st.order = append(st.order, sum)
	if len(st.order) > h.limits.Remembered {
		delete(st.seen, st.order[0])
		st.order = st.order[1:]
	}
	return true
}
