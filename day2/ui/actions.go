package ui

import (
	"errors"
	"io"
	"net/http"
	"net/url"

	"github.com/capstan-gitops/capstan/day2/syncs"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// action is one thing a person can do to a Sync.
type action struct {
	Name, Label, Explain string
}

var actions = map[string]action{
	"reconcile": {"reconcile", "Sync now", "The controller fetches the branch and applies its latest commit now, as `capstan reconcile` asks it to."},
	"suspend":   {"suspend", "Suspend", "The controller stops applying this Sync, and stops correcting drift, until it is resumed."},
	"resume":    {"resume", "Resume", "The controller applies this Sync again, starting with a reconcile now."},
}

type confirmData struct {
	common
	Key    string
	Path   string
	Action action
}

// actionOf reads the Sync and the action a request names, answering the
// request itself when either is unknown or actions are off.
func (s *Server) actionOf(w http.ResponseWriter, r *http.Request) (client.ObjectKey, action, bool) {
	key, err := s.key(r)
	a, ok := actions[r.PathValue("action")]
	switch {
	case err != nil:
		s.fail(w, r, http.StatusNotFound, err)
	case !ok:
		s.fail(w, r, http.StatusNotFound, errors.New("no such action"))
	case s.opts.ReadOnly:
		s.fail(w, r, http.StatusForbidden, errors.New("capstan ui runs with --read-only: no actions"))
	default:
		return key, a, true
	}
	return key, a, false
}

// confirm asks before an action: the page holds the POST form.
func (s *Server) confirm(w http.ResponseWriter, r *http.Request) {
	key, a, ok := s.actionOf(w, r)
	if !ok {
		return
	}
	path := "/syncs/" + key.Namespace + "/" + key.Name
	s.render(w, r, "confirm", confirmData{common: s.common(a.Label+" "+key.Name+"?", "", ""), Key: key.String(), Path: path, Action: a})
}

// act runs a confirmed action and sends the browser back to the Sync,
// whose page then shows the controller's outcome as it comes.
func (s *Server) act(w http.ResponseWriter, r *http.Request) {
	key, a, ok := s.actionOf(w, r)
	if !ok {
		return
	}
	var err error
	ro := syncs.ReconcileOptions{Key: key, Output: "text"}
	switch a.Name {
	case "reconcile":
		err = syncs.Reconcile(r.Context(), s.c, ro, io.Discard, io.Discard)
	case "suspend":
		err = syncs.Suspend(r.Context(), s.c, key, io.Discard)
	case "resume":
		err = syncs.Resume(r.Context(), s.c, ro, io.Discard, io.Discard)
	}
	if err != nil {
		s.fail(w, r, http.StatusConflict, err)
		return
	}
	http.Redirect(w, r, "/syncs/"+url.PathEscape(key.Namespace)+"/"+url.PathEscape(key.Name)+"?done="+a.Name, http.StatusSeeOther)
}

// noticeOf is the line shown after an action.
func noticeOf(done string) string {
	switch done {
	case "reconcile":
		return "Sync requested: the state below follows the controller's outcome."
	case "suspend":
		return "Suspended: the controller leaves this Sync's objects alone until it is resumed."
	case "resume":
		return "Resumed: a reconcile was requested; the state below follows its outcome."
	}
	return ""
}
