package chart

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/capstan-gitops/capstan/internal/chartpull"
	"github.com/capstan-gitops/capstan/internal/redact"
)

// RepullOptions are those of `capstan chart pull` without a chart name.
type RepullOptions struct {
	Dir   string
	Creds Credentials
	// Force replaces vendored trees that differ from the published chart.
	Force   bool
	Timeout time.Duration
	Limits  chartpull.Limits
}

// EntryReport is what re-pulling found of one pinned chart.
type EntryReport struct {
	Name, Version, Repo string
	// Skipped says why an entry was not pulled.
	Skipped string
	chartpull.Drift
	// Restored are the files written back; with Force, all that differed.
	Restored []string
}

// Differs says whether the vendored chart still differs from the
// published one.
func (r EntryReport) Differs() bool { return len(r.Modified)+len(r.Extra) > 0 }

// Report is what re-pulling every entry found.
type Report []EntryReport

// Differs says whether any vendored chart still differs from its
// published one.
func (r Report) Differs() bool {
	return slices.ContainsFunc(r, EntryReport.Differs)
}

// Repull fetches every helmCharts entry of dir's kustomization at its
// pinned version, writes back vendored files that are missing and reports
// the files that differ from the published chart (modified or extra),
// which it leaves as they are unless opts.Force.
func Repull(ctx context.Context, opts RepullOptions) (Report, error) {
	file, data, err := kustomizationFile(opts.Dir)
	if err != nil {
		return nil, fmt.Errorf("reading the kustomization: %w", err)
	}
	if data == nil {
		return nil, &UserError{Msg: "no kustomization in " + opts.Dir,
			Advice: "run it in a kustomization's directory (or --dir), or pull a chart: capstan chart pull NAME --repo URL --version V"}
	}
	k, err := chartpull.ReadKustomization(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	if len(k.Entries) == 0 {
		return nil, &UserError{Msg: file + " has no helmCharts entries",
			Advice: "pull a chart: capstan chart pull NAME --repo URL --version V"}
	}
	home, err := chartHome(opts.Dir, k.ChartHome, file)
	if err != nil {
		return nil, err
	}
	host, err := credentialHost(k.Entries, opts.Creds)
	if err != nil {
		return nil, err
	}
	f := fetcher(opts.Limits, opts.Creds, host, opts.Timeout)
	var report Report
	done := map[chartpull.Entry]bool{}
	for _, e := range k.Entries {
		key := chartpull.Entry{Name: e.Name, Version: e.Version, Repo: e.Repo}
		if done[key] {
			continue
		}
		done[key] = true
		r := EntryReport{Name: e.Name, Version: e.Version, Repo: redact.URL(e.Repo)}
		if e.Version == "" || e.Repo == "" {
			r.Skipped = "no version or no repo: not a pinned chart to pull"
			report = append(report, r)
			continue
		}
		if err := repullEntry(ctx, f, home, e, opts.Force, &r); err != nil {
			return report, err
		}
		report = append(report, r)
	}
	return report, nil
}

// credentialHost is the one host the entries' repositories share, to which
// credentials may go; credentials for entries on several hosts are refused
// rather than sent to all of them.
func credentialHost(entries []chartpull.Entry, creds Credentials) (string, error) {
	hosts := map[string]bool{}
	for _, e := range entries {
		if e.Repo != "" && e.Version != "" {
			hosts[chartpull.HostOf(e.Repo)] = true
		}
	}
	if len(hosts) == 1 || creds == (Credentials{}) {
		for h := range hosts {
			return h, nil
		}
		return "", nil
	}
	list := make([]string, 0, len(hosts))
	for h := range hosts {
		list = append(list, h)
	}
	sort.Strings(list)
	return "", &UserError{Msg: "credentials are given, but the charts come from several hosts (" + strings.Join(list, ", ") + ")",
		Advice: "pull the charts that need them one at a time: capstan chart pull NAME --version V"}
}

func repullEntry(ctx context.Context, f *chartpull.Fetcher, home string, e chartpull.Entry, force bool, r *EntryReport) error {
	p, err := f.Pull(ctx, e.Repo, e.Name, e.Version)
	if err != nil {
		return pullError(e.Name, e.Repo, err)
	}
	if p.Archive.Version != e.Version {
		return fmt.Errorf("chart %s: the entry pins version %s, but the repository gave %s", e.Name, e.Version, p.Archive.Version)
	}
	dir := filepath.Join(home, e.Name+"-"+e.Version)
	want := p.Chart.Files.Prefix(e.Name)
	if r.Drift, err = chartpull.Compare(dir, want); err != nil {
		return err
	}
	switch {
	case force && !r.Drift.Empty():
		if err := chartpull.Replace(dir, want); err != nil {
			return fmt.Errorf("vendoring %s %s: %w", e.Name, e.Version, err)
		}
		r.Restored = slices.Concat(r.Missing, r.Modified, r.Extra)
		sort.Strings(r.Restored)
		r.Drift = chartpull.Drift{}
	case len(r.Missing) > 0:
		if err := chartpull.WriteFiles(dir, want, r.Missing); err != nil {
			return fmt.Errorf("restoring %s %s: %w", e.Name, e.Version, err)
		}
		r.Restored, r.Missing = r.Missing, nil
	}
	return nil
}

// Print writes the report, one line per entry and one per file that was
// restored or differs.
func (r Report) Print(w io.Writer) {
	for _, e := range r {
		head := e.Name + " " + e.Version
		switch {
		case e.Skipped != "":
			fmt.Fprintf(w, "%s: skipped: %s\n", head, e.Skipped)
			continue
		case !e.Differs() && len(e.Restored) == 0:
			fmt.Fprintf(w, "%s: vendored files match %s\n", head, e.Repo)
			continue
		case e.Differs():
			fmt.Fprintf(w, "%s: vendored files differ from the chart published in %s\n", head, e.Repo)
		default:
			fmt.Fprintf(w, "%s: restored from %s\n", head, e.Repo)
		}
		for _, p := range e.Restored {
			fmt.Fprintf(w, "  restored  %s\n", p)
		}
		for _, p := range e.Modified {
			fmt.Fprintf(w, "  modified  %s\n", p)
		}
		for _, p := range e.Extra {
			fmt.Fprintf(w, "  extra     %s\n", p)
		}
	}
}
