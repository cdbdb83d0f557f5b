package main

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
)

// story prints the demo as numbered steps, each with one line of why, the
// commands it runs and their output, indented. It is safe for concurrent
// use: the controller's watcher and a command's output may print at once.
type story struct {
	mu   sync.Mutex
	w    io.Writer
	step int
}

func (s *story) printf(format string, args ...any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	fmt.Fprintf(s.w, format, args...)
}

// title starts the next numbered step.
func (s *story) title(title, why string) {
	s.mu.Lock()
	s.step++
	n := s.step
	s.mu.Unlock()
	s.printf("\n%d. %s\n", n, title)
	for _, line := range strings.Split(why, "\n") {
		s.printf("   %s\n", line)
	}
}

// command shows a command line as the user would type it.
func (s *story) command(line string) { s.printf("   $ %s\n", line) }

// done reports what a step achieved and how long it took.
func (s *story) done(what string, took time.Duration) {
	s.printf("   ✓ %s (%s)\n", what, round(took))
}

// note prints an indented remark.
func (s *story) note(format string, args ...any) {
	s.printf("   "+format+"\n", args...)
}

// output returns a writer that prints a command's output indented under
// the step, line by line as it arrives.
func (s *story) output() *indented { return &indented{s: s, prefix: "   │ "} }

// indented prefixes every complete line written to it.
type indented struct {
	s      *story
	prefix string
	mu     sync.Mutex
	buf    bytes.Buffer
}

func (w *indented) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	for {
		line, err := w.buf.ReadString('\n')
		if err != nil { // no newline yet: keep the partial line
			w.buf.Reset()
			w.buf.WriteString(line)
			return len(p), nil
		}
		w.s.printf("%s%s", w.prefix, line)
	}
}

// Flush prints a last line that did not end with a newline.
func (w *indented) Flush() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.buf.Len() > 0 {
		w.s.printf("%s%s\n", w.prefix, w.buf.String())
		w.buf.Reset()
	}
}

// phase is one timed part of the story, for the summary.
type phase struct {
	name string
	took time.Duration
}

// printTimings prints the phases as an aligned table.
func (s *story) printTimings(phases []phase) {
	width := 0
	for _, p := range phases {
		width = max(width, len(p.name))
	}
	s.printf("\nTime each phase took:\n")
	for _, p := range phases {
		s.printf("   %-*s %8s\n", width, p.name, round(p.took))
	}
}

func round(d time.Duration) time.Duration {
	if d < time.Second {
		return d.Round(time.Millisecond)
	}
	return d.Round(100 * time.Millisecond)
}
