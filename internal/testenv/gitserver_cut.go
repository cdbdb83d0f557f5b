package testenv

import (
	"errors"
	"net/http"
	"sync"
)

// gitServerCuts breaks fetches off mid-transfer on request, as a network
// failure would.
type gitServerCuts struct {
	mu    sync.Mutex
	left  int
	after int64
}

// CutFetches makes the next n fetches over HTTP or HTTPS (git-upload-pack
// responses, which carry the pack) break off once the server has sent after
// bytes of the response: the connection is closed without ending the
// response (over HTTP/2, the stream is reset), so the client sees it cut
// mid-transfer. Later fetches are served in full.
func (s *GitServer) CutFetches(n int, after int64) {
	s.cuts.mu.Lock()
	defer s.cuts.mu.Unlock()
	s.cuts.left, s.cuts.after = n, after
}

// wrap returns w, or a writer that cuts the connection if a cut is pending.
func (c *gitServerCuts) wrap(w http.ResponseWriter) http.ResponseWriter {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.left <= 0 {
		return w
	}
	c.left--
	return &cuttingWriter{ResponseWriter: w, left: c.after}
}

// errCut is what a cut response's writes return.
var errCut = errors.New("testenv: connection cut on purpose")

// cuttingWriter passes left bytes through, then flushes them and closes the
// connection under the handler.
type cuttingWriter struct {
	http.ResponseWriter
	left int64
	cut  bool
}

func (w *cuttingWriter) Write(p []byte) (int, error) {
	if w.cut {
		return 0, errCut
	}
	if int64(len(p)) <= w.left {
		w.left -= int64(len(p))
		return w.ResponseWriter.Write(p)
	}
	n, err := w.ResponseWriter.Write(p[:w.left])
	w.left = 0
	w.cut = true
	if err != nil {
		return n, err
	}
	w.closeConn()
	return n, errCut
}

// closeConn sends what was written and closes the connection, leaving the
// chunked response unterminated.
func (w *cuttingWriter) closeConn() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
	hj, ok := w.ResponseWriter.(http.Hijacker)
	if !ok {
		panic(http.ErrAbortHandler)
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	_ = conn.Close()
}
