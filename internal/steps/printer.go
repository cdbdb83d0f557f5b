package steps

import (
	"fmt"
	"io"
	"sync"
	"time"
)

// Printer reports plan progress on a terminal or a log: one line per step
// with ✓ or ✗ and its duration. On a TTY a spinner shows the running step.
// Sub prints sub-lines under the running step, such as what a library
// reports it is doing; it may be called from any goroutine.
type Printer struct {
	w     io.Writer
	tty   bool
	color bool
	// durations are left out when false, for golden tests.
	durations bool

	mu   sync.Mutex
	stop chan struct{}
	done chan struct{}
	// wmu serialises writes: the spinner's, the step lines and sub-lines.
	wmu sync.Mutex
	// running is the step between Start and Done or Fail; headed is true
	// once its "•" line was printed above its first sub-line.
	running string
	headed  bool
}

// PrinterOptions describe the output.
type PrinterOptions struct {
	// TTY enables the spinner; Color enables ANSI colours (off with NO_COLOR).
	TTY, Color bool
	// HideDurations prints no timings (for reproducible output).
	HideDurations bool
}

// NewPrinter returns a Printer writing to w.
func NewPrinter(w io.Writer, opts PrinterOptions) *Printer {
	return &Printer{w: w, tty: opts.TTY, color: opts.Color && opts.TTY, durations: !opts.HideDurations}
}

// Start shows that step began.
func (p *Printer) Start(step string) {
	p.wmu.Lock()
	p.running, p.headed = step, false
	p.wmu.Unlock()
	if !p.tty {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.stop, p.done = make(chan struct{}), make(chan struct{})
	go p.spin(step, p.stop, p.done)
}

func (p *Printer) spin(step string, stop, done chan struct{}) {
	defer close(done)
	frames := []string{"⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"}
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for i := 0; ; i++ {
		p.write(fmt.Sprintf("\r %s %s ", frames[i%len(frames)], step))
		select {
		case <-stop:
			p.write("\r\033[K")
			return
		case <-t.C:
		}
	}
}

func (p *Printer) stopSpinner() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stop != nil {
		close(p.stop)
		<-p.done
		p.stop = nil
	}
}

// Done prints a ✓ line for step.
func (p *Printer) Done(step, note string, took time.Duration) {
	p.stopSpinner()
	p.line(p.paint("✓", "32"), step, note, took)
}

// Fail prints a ✗ line for step; the error itself is printed once, by the
// caller, with what to do next.
func (p *Printer) Fail(step string, _ error, took time.Duration) {
	p.stopSpinner()
	p.line(p.paint("✗", "31"), step, "", took)
}

func (p *Printer) line(mark, step, note string, took time.Duration) {
	msg := " " + mark + " " + step
	if note != "" {
		msg += ": " + note
	}
	if p.durations {
		msg += fmt.Sprintf(" (%s)", roundDuration(took))
	}
	p.write(msg + "\n")
}

// SubPrefix starts every sub-line.
const SubPrefix = "   │ "

// Sub prints line under the running step, as "   │ line"; the first
// sub-line of a step comes after a " • Step" line naming it. On a TTY it
// clears the spinner first, which draws itself again below.
func (p *Printer) Sub(line string) {
	p.wmu.Lock()
	defer p.wmu.Unlock()
	msg := SubPrefix + line + "\n"
	if p.running != "" && !p.headed {
		msg = " • " + p.running + "\n" + msg
		p.headed = true
	}
	if p.tty {
		msg = "\r\033[K" + msg
	}
	_, _ = io.WriteString(p.w, msg)
}

func (p *Printer) write(s string) {
	p.wmu.Lock()
	defer p.wmu.Unlock()
	_, _ = io.WriteString(p.w, s)
}

func (p *Printer) paint(s, code string) string {
	if !p.color {
		return s
	}
	return "\033[" + code + "m" + s + "\033[0m"
}

func roundDuration(d time.Duration) time.Duration {
	switch {
	case d < time.Second:
		return d.Round(time.Millisecond)
	default:
		return d.Round(100 * time.Millisecond)
	}
}
