package ui

import (
	"bytes"
	"context"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"strings"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	capstanv1 "github.com/capstan-gitops/capstan/api/v1"
	"github.com/capstan-gitops/capstan/day2/diff"
	"github.com/capstan-gitops/capstan/day2/syncs"
)

//go:embed web
var webFS embed.FS

// static holds static/app.js and static/style.css.
var static = mustSub(webFS, "web")

func mustSub(f fs.FS, dir string) fs.FS {
	sub, err := fs.Sub(f, dir)
	if err != nil {
		panic(err) // the directory is embedded: this cannot fail
	}
	return sub
}

// pages are the parsed templates, one set per page, each with the layout.
type pages struct {
	byName map[string]*template.Template
}

func parsePages() (*pages, error) {
	funcs := template.FuncMap{
		"age":       ageHTML,
		"short":     syncs.ShortRevision,
		"lines":     func(s string) []string { return strings.Split(strings.TrimSuffix(s, "\n"), "\n") },
		"lineClass": lineClass,
	}
	p := &pages{byName: map[string]*template.Template{}}
	for _, name := range []string{"overview", "sync", "diff", "confirm", "message"} {
		t, err := template.New(name).Funcs(funcs).ParseFS(webFS, "web/templates/layout.html", "web/templates/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("parsing page %s: %w", name, err)
		}
		p.byName[name] = t
	}
	return p, nil
}

// render writes page with data: the whole page, or with ?part=live only the
// part the script refreshes. It renders into a buffer first, so that a
// failure is one clear error page.
func (s *Server) render(w http.ResponseWriter, r *http.Request, page string, data any) {
	var buf bytes.Buffer
	tmpl := "layout.html"
	if r.URL.Query().Get("part") == "live" {
		tmpl = "live"
	}
	if err := s.pages.byName[page].ExecuteTemplate(&buf, tmpl, data); err != nil {
		http.Error(w, "rendering "+page+": "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, _ = w.Write(buf.Bytes())
}

// fail shows err as a page of its own.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, code int, err error) {
	w.WriteHeader(code)
	s.render(w, r, "message", common{Title: "Error", Error: err.Error(), Live: ""})
}

// ageHTML shows the time since t as a <time> element that the page's
// script keeps current, so that a refresh finds the page unchanged when
// only time passed.
func ageHTML(t time.Time) template.HTML {
	if t.IsZero() {
		return "-"
	}
	return template.HTML(`<time datetime="` + t.UTC().Format(time.RFC3339) + `">` + template.HTMLEscapeString(syncs.Age(t, time.Now())) + `</time>`)
}

// lineClass is the class of one line of a unified diff.
func lineClass(line string) string {
	switch {
	case strings.HasPrefix(line, "+++"), strings.HasPrefix(line, "---"):
		return "file"
	case strings.HasPrefix(line, "+"):
		return "add"
	case strings.HasPrefix(line, "-"):
		return "del"
	case strings.HasPrefix(line, "@@"):
		return "hunk"
	}
	return "ctx"
}

// common is what every page has.
type common struct {
	Title string
	// Live is the address of the page's live part ("" for none); Watch the
	// Sync whose objects the event stream follows.
	Live, Watch string
	ReadOnly    bool
	CSRF        string
	Error       string
	Notice      string
}

type overviewData struct {
	common
	Namespace string
	Rows      []syncRow
	Graph     graph
	Counts    map[string]int
}

func (s *Server) overview(w http.ResponseWriter, r *http.Request) {
	items, err := syncs.List(r.Context(), s.cached, s.opts.Namespace)
	if err != nil {
		s.fail(w, r, http.StatusBadGateway, err)
		return
	}
	d := overviewData{common: s.common("Syncs", "/", ""), Namespace: s.opts.Namespace, Counts: map[string]int{}}
	for i := range items {
		row := rowOf(&items[i])
		d.Rows = append(d.Rows, row)
		d.Counts[row.State.Label]++
	}
	d.Graph = dependencyGraph(d.Rows)
	s.render(w, r, "overview", d)
}

func (s *Server) common(title, live, watch string) common {
	return common{Title: title, Live: live, Watch: watch, ReadOnly: s.opts.ReadOnly, CSRF: s.guard.csrf}
}

type syncData struct {
	common
	Row        syncRow
	Sync       *capstanv1.Sync
	Tree       tree
	Events     []objectEvent
	SyncEvents []syncs.Event
	FilesError string
	NeededBy   []string
}

// key reads the Sync of the request's path, refusing one outside the
// namespace the UI serves.
func (s *Server) key(r *http.Request) (client.ObjectKey, error) {
	key := client.ObjectKey{Namespace: r.PathValue("ns"), Name: r.PathValue("name")}
	if s.opts.Namespace != "" && key.Namespace != s.opts.Namespace {
		return key, fmt.Errorf("sync %s is outside namespace %s, which this UI serves", key, s.opts.Namespace)
	}
	return key, nil
}

func (s *Server) syncPage(w http.ResponseWriter, r *http.Request) {
	key, err := s.key(r)
	if err != nil {
		s.fail(w, r, http.StatusNotFound, err)
		return
	}
	d, err := s.loadSync(r.Context(), key)
	if err != nil {
		s.fail(w, r, http.StatusBadGateway, err)
		return
	}
	d.Notice = noticeOf(r.URL.Query().Get("done"))
	s.render(w, r, "sync", d)
}

func (s *Server) loadSync(ctx context.Context, key client.ObjectKey) (syncData, error) {
	sync, err := syncs.Get(ctx, s.cached, key)
	if err != nil {
		return syncData{}, err
	}
	path := "/syncs/" + key.Namespace + "/" + key.Name
	d := syncData{common: s.common(key.Name, path, key.String()), Row: rowOf(sync), Sync: sync}
	fctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	files, ferr := s.files.files(fctx, sync)
	cancel()
	if ferr != nil {
		d.FilesError = ferr.Error()
	}
	if d.Tree, err = loadTree(ctx, s.c, sync, files); err != nil {
		return d, err
	}
	if d.Events, err = attachEvents(ctx, s.c, &d.Tree, 20); err != nil {
		return d, err
	}
	if d.SyncEvents, err = syncs.Events(ctx, s.c, sync); err != nil {
		return d, err
	}
	all, err := syncs.List(ctx, s.cached, key.Namespace)
	if err != nil {
		return d, err
	}
	for _, o := range all {
		for _, dep := range o.Spec.DependsOn {
			if dep.Name == key.Name {
				d.NeededBy = append(d.NeededBy, o.Name)
			}
		}
	}
	return d, nil
}

type diffData struct {
	common
	Key    string
	Report diff.Report
}

func (s *Server) diffPage(w http.ResponseWriter, r *http.Request) {
	key, err := s.key(r)
	if err != nil {
		s.fail(w, r, http.StatusNotFound, err)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Minute)
	defer cancel()
	rep, err := diff.Run(ctx, s.c, diff.Options{Sync: key, Fetcher: s.fetcher, Capabilities: s.caps})
	if err != nil {
		s.fail(w, r, http.StatusBadGateway, err)
		return
	}
	s.render(w, r, "diff", diffData{common: s.common("Diff of "+key.Name, "", ""), Key: key.String(), Report: rep})
}
