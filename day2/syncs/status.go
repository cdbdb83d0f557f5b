package syncs

import (
	"context"
	"fmt"
	"io"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/watch"
	"sigs.k8s.io/controller-runtime/pkg/client"

	capstanv1 "github.com/capstan-gitops/capstan/api/v1"
	"github.com/capstan-gitops/capstan/internal/kubeclient"
	"github.com/capstan-gitops/capstan/internal/output"
)

// StatusOptions select what `capstan status` shows.
type StatusOptions struct {
	// Namespace of the Syncs; ignored with AllNamespaces.
	Namespace     string
	AllNamespaces bool
	// Name shows one Sync in detail: inventory tree and events.
	Name string
	// Output is text, json or yaml.
	Output string
	// Watch prints the table, then a row each time a Sync changes, until ctx
	// is done. With Name, only that Sync's row.
	Watch bool
}

// Status prints the Syncs opts select to out.
func Status(ctx context.Context, c client.WithWatch, opts StatusOptions, out io.Writer) error {
	if err := output.Check(opts.Output); err != nil {
		return err
	}
	ns := opts.Namespace
	if opts.AllNamespaces {
		ns = ""
	}
	if opts.Watch {
		return watchStatus(ctx, c, ns, opts, out)
	}
	if opts.Name != "" {
		return printOne(ctx, c, client.ObjectKey{Namespace: opts.Namespace, Name: opts.Name}, opts.Output, out)
	}
	items, err := List(ctx, c, ns)
	if err != nil {
		return err
	}
	rows := make([]Summary, 0, len(items))
	for i := range items {
		rows = append(rows, Summarise(&items[i]))
	}
	if !output.IsText(opts.Output) {
		return output.Write(out, opts.Output, rows)
	}
	if len(rows) == 0 {
		_, err := fmt.Fprintln(out, noSyncs(ns))
		return err
	}
	return PrintTable(out, rows, time.Now())
}

func noSyncs(ns string) string {
	if ns == "" {
		return "No Syncs found."
	}
	return fmt.Sprintf("No Syncs found in namespace %s (all namespaces: -A).", ns)
}

func printOne(ctx context.Context, c client.Reader, key client.ObjectKey, format string, out io.Writer) error {
	s, err := Get(ctx, c, key)
	if err != nil {
		return err
	}
	events, err := Events(ctx, c, s)
	if err != nil {
		return err
	}
	d := Describe(s, events)
	if !output.IsText(format) {
		return output.Write(out, format, d)
	}
	return PrintDetail(out, d, time.Now())
}

// watchStatus lists, prints, and then follows changes with a watch that is
// started again from a fresh list whenever the server closes it.
func watchStatus(ctx context.Context, c client.WithWatch, ns string, opts StatusOptions, out io.Writer) error {
	st := &watchState{shown: map[client.ObjectKey]string{}, out: out, format: opts.Output}
	first := true
	for ctx.Err() == nil {
		rv, err := printChanged(ctx, c, ns, opts, st, first)
		if err != nil {
			return err
		}
		first = false
		if err := follow(ctx, c, ns, opts, rv, st); err != nil {
			return err
		}
		select { // the server closed the watch: list again, gently
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
	return nil
}

func listOptions(ns, name, rv string) *client.ListOptions {
	lo := &client.ListOptions{Namespace: ns}
	if name != "" {
		lo.FieldSelector = fields.OneTermEqualSelector("metadata.name", name)
	}
	if rv != "" {
		lo.Raw = &metav1.ListOptions{ResourceVersion: rv, AllowWatchBookmarks: true}
	}
	return lo
}

// watchState is what --watch has printed.
type watchState struct {
	shown  map[client.ObjectKey]string
	cols   columns
	out    io.Writer
	format string
}

// emit prints rows: aligned table rows (after a header the first time), or
// one JSON or YAML document each.
func (st *watchState) emit(rows []Summary, header bool) error {
	if output.IsText(st.format) {
		return st.cols.print(st.out, rows, header, time.Now())
	}
	for _, r := range rows {
		if err := output.Write(st.out, st.format, r); err != nil {
			return err
		}
	}
	return nil
}

// printChanged lists the Syncs and prints those whose row changed since it
// was last shown (all of them, with a header, the first time).
func printChanged(ctx context.Context, c client.WithWatch, ns string, opts StatusOptions, st *watchState, first bool) (string, error) {
	list := &capstanv1.SyncList{}
	if err := c.List(ctx, list, listOptions(ns, opts.Name, "")); err != nil {
		return "", kubeclient.Explain(err, "listing syncs", client.ObjectKey{})
	}
	if first && opts.Name != "" && len(list.Items) == 0 {
		return "", kubeclient.Explain(notFound(opts.Namespace, opts.Name), "", client.ObjectKey{Namespace: opts.Namespace, Name: opts.Name})
	}
	var rows []Summary
	for i := range list.Items {
		if s := Summarise(&list.Items[i]); changed(st.shown, s) {
			rows = append(rows, s)
		}
	}
	return list.ResourceVersion, st.emit(rows, first)
}

// changed records s's row and reports whether it differs from the last one shown.
func changed(shown map[client.ObjectKey]string, s Summary) bool {
	key := client.ObjectKey{Namespace: s.Namespace, Name: s.Name}
	row := Row(s, s.CreatedAt) // ages left out: they change every second
	if shown[key] == row {
		return false
	}
	shown[key] = row
	return true
}

// follow prints the rows of changed Syncs until the watch ends or ctx is done.
func follow(ctx context.Context, c client.WithWatch, ns string, opts StatusOptions, rv string, st *watchState) error {
	w, err := c.Watch(ctx, &capstanv1.SyncList{}, listOptions(ns, opts.Name, rv))
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return kubeclient.Explain(err, "watching syncs", client.ObjectKey{})
	}
	defer w.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-w.ResultChan():
			if !ok || ev.Type == watch.Error {
				return nil
			}
			s, isSync := ev.Object.(*capstanv1.Sync)
			if !isSync || ev.Type == watch.Bookmark {
				continue
			}
			sum := Summarise(s)
			if ev.Type == watch.Deleted {
				sum.Message = "deleted"
			}
			if !changed(st.shown, sum) {
				continue
			}
			if err := st.emit([]Summary{sum}, false); err != nil {
				return err
			}
		}
	}
}
