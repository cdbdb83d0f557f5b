// Package liblog routes the logs of libraries that log on their own into
// Capstan's output, so that a person reads one voice. k3d logs through a
// logrus logger of its own, the Docker client through logrus' standard
// logger, and kustomize's warnings go to the standard library's log: each
// is handed to a Router, which turns every entry into one line for a sink
// (a steps.Printer's Sub) or drops it.
//
// Those loggers are process-wide. The CLI wiring (cmd/capstan/app) routes
// them for the length of one command and restores them afterwards; nothing
// here runs at init.
package liblog

import (
	"bytes"
	"fmt"
	"io"
	"log"
	"sort"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/sirupsen/logrus"
)

// MaxLine is how many characters a short line keeps.
const MaxLine = 100

// Router turns library log entries into lines for Sink.
type Router struct {
	// Sink receives each line that is shown.
	Sink func(line string)
	// Verbose shows every entry down to debug, in full with its fields.
	// Otherwise info, warnings and errors become short lines and debug
	// is dropped.
	Verbose bool
}

// Route sends the entries of the logrus loggers, and of the standard
// library's log, to r until restore is called, which puts back their
// outputs, hooks and levels.
func (r Router) Route(loggers ...*logrus.Logger) (restore func()) {
	var undo []func()
	level := logrus.InfoLevel
	if r.Verbose {
		level = logrus.DebugLevel
	}
	for _, l := range loggers {
		undo = append(undo, r.routeLogrus(l, level))
	}
	stdOut, stdFlags := log.Writer(), log.Flags()
	log.SetOutput(&lineWriter{emit: func(s string) { r.emit(logrus.WarnLevel, s, nil) }})
	log.SetFlags(0)
	undo = append(undo, func() { log.SetOutput(stdOut); log.SetFlags(stdFlags) })
	return func() {
		for i := len(undo) - 1; i >= 0; i-- {
			undo[i]()
		}
	}
}

func (r Router) routeLogrus(l *logrus.Logger, level logrus.Level) func() {
	out, level0 := l.Out, l.GetLevel()
	hooks := l.ReplaceHooks(logrus.LevelHooks{})
	l.AddHook(hook{r})
	l.SetOutput(io.Discard)
	l.SetLevel(level)
	return func() {
		l.ReplaceHooks(hooks)
		l.SetOutput(out)
		l.SetLevel(level0)
	}
}

// hook hands every logrus entry to the router.
type hook struct{ r Router }

func (hook) Levels() []logrus.Level { return logrus.AllLevels }

func (h hook) Fire(e *logrus.Entry) error {
	h.r.emit(e.Level, e.Message, e.Data)
	return nil
}

func (r Router) emit(level logrus.Level, msg string, fields logrus.Fields) {
	if r.Sink == nil {
		return
	}
	if r.Verbose {
		r.Sink(Full(level, msg, fields))
		return
	}
	if level > logrus.InfoLevel {
		return
	}
	if s := Short(msg); s != "" {
		r.Sink(s)
	}
}

// Full is an entry as --verbose shows it: level, message and fields.
func Full(level logrus.Level, msg string, fields logrus.Fields) string {
	var b strings.Builder
	b.WriteString(level.String())
	b.WriteString(": ")
	b.WriteString(strings.TrimSpace(msg))
	keys := make([]string, 0, len(fields))
	for k := range fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		b.WriteString(" " + k + "=")
		b.WriteString(strings.TrimSpace(strings.ReplaceAll(toString(fields[k]), "\n", " ")))
	}
	return b.String()
}

func toString(v any) string { return fmt.Sprint(v) }

// Short is a message as a person reads it under a step: its first line,
// without the quotes libraries put around names, starting lowercase, cut
// to MaxLine characters.
func Short(msg string) string {
	msg, _, _ = strings.Cut(strings.TrimSpace(msg), "\n")
	msg = strings.TrimSpace(strings.TrimSuffix(msg, "..."))
	msg = strings.NewReplacer("'", "", "\"", "").Replace(msg)
	if r, n := utf8.DecodeRuneInString(msg); n > 0 {
		word, _, _ := strings.Cut(msg[n:], " ")
		if !strings.ContainsFunc(word, unicode.IsUpper) {
			msg = string(unicode.ToLower(r)) + msg[n:]
		}
	}
	if utf8.RuneCountInString(msg) > MaxLine {
		msg = string([]rune(msg)[:MaxLine-1]) + "…"
	}
	return msg
}

// lineWriter calls emit once per line written.
type lineWriter struct {
	mu   sync.Mutex
	buf  []byte
	emit func(string)
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, p...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			return len(p), nil
		}
		if line := strings.TrimSpace(string(w.buf[:i])); line != "" {
			w.emit(line)
		}
		w.buf = w.buf[i+1:]
	}
}
