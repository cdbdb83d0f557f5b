package k3dstandin

import (
	"io"
	"net"
	"net/http"
	"strings"
)

// isUpgrade reports a request asking to take over its connection, as the
// engine's attach and exec-start endpoints do (Upgrade: tcp).
func isUpgrade(r *http.Request) bool {
	return r.Header.Get("Upgrade") != "" && strings.Contains(strings.ToLower(r.Header.Get("Connection")), "upgrade")
}

// tunnel hands an upgrade request to the engine and then relays raw bytes
// both ways with half-closes kept: a client streaming an image into an
// exec's stdin closes its write side when done and still reads the output,
// and the engine may end its output before stdin is drained. (A reverse
// proxy closes both sides once either ends, cutting such a stream.)
func tunnel(w http.ResponseWriter, r *http.Request, engine string) {
	backend, err := net.Dial("unix", engine)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	defer backend.Close()
	hj, ok := w.(http.Hijacker)
	if !ok {
		http.Error(w, "connection cannot be taken over", http.StatusInternalServerError)
		return
	}
	r.Host = "docker"
	if err := r.Write(backend); err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	client, buffered, err := hj.Hijack()
	if err != nil {
		return
	}
	defer client.Close()
	done := make(chan struct{}, 2)
	relay := func(dst net.Conn, src io.Reader) {
		_, _ = io.Copy(dst, src)
		if cw, ok := dst.(interface{ CloseWrite() error }); ok {
			_ = cw.CloseWrite()
		}
		done <- struct{}{}
	}
	go relay(backend, buffered)
	go relay(client, backend)
	<-done
	<-done
}
