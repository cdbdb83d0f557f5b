package syncs

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode/utf8"

	"k8s.io/apimachinery/pkg/util/duration"
)

// tableHeader names the columns of PrintTable.
const tableHeader = "NAMESPACE\tNAME\tREADY\tSUSPENDED\tREF\tREVISION\tAGE\tDURATION\tOBJECTS\tMESSAGE"

// maxMessage bounds the MESSAGE column.
const maxMessage = 100

// PrintTable writes one row per Sync under a header, with ages as of now.
func PrintTable(w io.Writer, rows []Summary, now time.Time) error {
	tw := newTabWriter(w)
	fmt.Fprintln(tw, tableHeader)
	for _, s := range rows {
		fmt.Fprintln(tw, Row(s, now))
	}
	return tw.Flush()
}

// columns aligns rows printed at different times, as --watch does: each
// column keeps the widest width it has had, so later rows line up with the
// header printed first.
type columns struct{ widths []int }

// line formats the tab-separated cells of row, padded to the column widths.
func (c *columns) line(row string) string {
	cells := strings.Split(row, "\t")
	var b strings.Builder
	for i, cell := range cells {
		if i == len(cells)-1 {
			b.WriteString(cell)
			break
		}
		n := utf8.RuneCountInString(cell)
		if i >= len(c.widths) {
			c.widths = append(c.widths, 0)
		}
		c.widths[i] = max(c.widths[i], n)
		b.WriteString(cell + strings.Repeat(" ", c.widths[i]-n+3))
	}
	return b.String()
}

// print writes the rows aligned, after the header when header is set.
func (c *columns) print(w io.Writer, rows []Summary, header bool, now time.Time) error {
	lines := make([]string, 0, len(rows)+1)
	if header {
		lines = append(lines, tableHeader)
	}
	for _, s := range rows {
		lines = append(lines, Row(s, now))
	}
	for _, l := range lines { // widen the columns for every row first
		c.line(l)
	}
	for _, l := range lines {
		if _, err := fmt.Fprintln(w, c.line(l)); err != nil {
			return err
		}
	}
	return nil
}

// Row formats one Sync as the tab-separated cells of the table.
func Row(s Summary, now time.Time) string {
	lastRun := "-"
	if s.LastRun != nil && s.LastRun.Duration.Duration > 0 {
		lastRun = roundDuration(s.LastRun.Duration.Duration).String()
	}
	rev := ShortRevision(s.Revision)
	if rev == "" {
		rev = "-"
	}
	msg := s.Message
	switch {
	case s.Reconciling && msg == "":
		msg = "reconciliation in progress"
	case msg == "":
		msg = "-"
	}
	return fmt.Sprintf("%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%d\t%s", s.Namespace, s.Name, s.Ready,
		strconv.FormatBool(s.Suspended), refCell(s), rev, Age(s.CreatedAt, now), lastRun, s.Objects, oneLine(msg, maxMessage))
}

// Age formats the time since t the way kubectl does ("5m", "3d2h").
func Age(t, now time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return duration.HumanDuration(now.Sub(t))
}

func roundDuration(d time.Duration) time.Duration {
	switch {
	case d < time.Second:
		return d.Round(time.Millisecond)
	case d < time.Minute:
		return d.Round(100 * time.Millisecond)
	default:
		return d.Round(time.Second)
	}
}

func newTabWriter(w io.Writer) *tabwriter.Writer {
	return tabwriter.NewWriter(w, 0, 8, 3, ' ', 0)
}
