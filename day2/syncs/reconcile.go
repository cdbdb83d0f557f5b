package syncs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	capstanv1 "github.com/capstan-gitops/capstan/api/v1"
	"github.com/capstan-gitops/capstan/components/manifests"
	"github.com/capstan-gitops/capstan/internal/kubeclient"
	"github.com/capstan-gitops/capstan/internal/output"
)

// DefaultReconcileTimeout bounds the wait for the controller's outcome.
const DefaultReconcileTimeout = 5 * time.Minute

// ReconcileOptions say which Sync to reconcile and whether to wait.
type ReconcileOptions struct {
	Key client.ObjectKey
	// Wait waits until the controller handled the request and reports its
	// outcome; a failed reconcile is an error.
	Wait bool
	// Timeout bounds the wait (default DefaultReconcileTimeout).
	Timeout time.Duration
	// Output is text, json or yaml: the Sync's summary after the reconcile.
	Output string
}

// ErrFailed means the controller handled the request and the Sync is not Ready.
var ErrFailed = errors.New("reconcile failed")

// Reconcile asks the controller to reconcile a Sync now by setting the
// reconcile-requested-at annotation and, with Wait, waits until
// status.lastHandledReconcileAt says it was handled. Progress goes to
// progress, the outcome to out.
func Reconcile(ctx context.Context, c client.Client, opts ReconcileOptions, out, progress io.Writer) error {
	if err := output.Check(opts.Output); err != nil {
		return err
	}
	s, err := Get(ctx, c, opts.Key)
	if err != nil {
		return err
	}
	if s.Spec.Suspend {
		return &kubeclient.Error{Err: fmt.Errorf("sync %s is suspended", opts.Key), Next: "resume it with `" + command("resume", opts.Key) + "`"}
	}
	return request(ctx, c, opts, nil, out, progress)
}

// Resume clears spec.suspend and requests a reconcile in the same patch, then
// waits as Reconcile does.
func Resume(ctx context.Context, c client.Client, opts ReconcileOptions, out, progress io.Writer) error {
	if err := output.Check(opts.Output); err != nil {
		return err
	}
	if _, err := Get(ctx, c, opts.Key); err != nil {
		return err
	}
	return request(ctx, c, opts, map[string]any{"suspend": nil}, out, progress)
}

// Suspend sets spec.suspend, so that the controller stops reconciling the
// Sync (and correcting drift) until it is resumed.
func Suspend(ctx context.Context, c client.Client, key client.ObjectKey, out io.Writer) error {
	s, err := Get(ctx, c, key)
	if err != nil {
		return err
	}
	if s.Spec.Suspend {
		_, err := fmt.Fprintf(out, "✓ %s was already suspended\n", key)
		return err
	}
	if err := patch(ctx, c, key, nil, map[string]any{"suspend": true}); err != nil {
		return err
	}
	_, err = fmt.Fprintf(out, "✓ suspended %s: the controller leaves its objects alone until `%s`\n", key, command("resume", key))
	return err
}

// request patches the annotation (and spec) and waits if asked to.
func request(ctx context.Context, c client.Client, opts ReconcileOptions, spec map[string]any, out, progress io.Writer) error {
	token := time.Now().UTC().Format(time.RFC3339Nano)
	verb := "requesting a reconcile of"
	if spec != nil {
		verb = "resuming"
	}
	fmt.Fprintf(progress, "► %s %s\n", verb, opts.Key)
	if err := patch(ctx, c, opts.Key, map[string]any{capstanv1.ReconcileRequestAnnotation: token}, spec); err != nil {
		return err
	}
	if !opts.Wait {
		_, err := fmt.Fprintf(out, "✓ reconcile of %s requested\n", opts.Key)
		return err
	}
	fmt.Fprintln(progress, "◎ waiting for the controller")
	s, err := waitHandled(ctx, c, opts.Key, token, opts.Timeout)
	if err != nil {
		return err
	}
	msg, failure := Outcome(s)
	if !output.IsText(opts.Output) {
		if err := output.Write(out, opts.Output, Summarise(s)); err != nil {
			return err
		}
	} else if failure == nil {
		if _, err := fmt.Fprintln(out, msg); err != nil {
			return err
		}
	}
	return failure
}

func patch(ctx context.Context, c client.Client, key client.ObjectKey, annotations, spec map[string]any) error {
	body := map[string]any{}
	if annotations != nil {
		body["metadata"] = map[string]any{"annotations": annotations}
	}
	if spec != nil {
		body["spec"] = spec
	}
	raw, err := json.Marshal(body)
	if err != nil {
		return fmt.Errorf("encoding patch: %w", err)
	}
	s := &capstanv1.Sync{ObjectMeta: metav1.ObjectMeta{Namespace: key.Namespace, Name: key.Name}}
	if err := c.Patch(ctx, s, client.RawPatch(types.MergePatchType, raw)); err != nil {
		return kubeclient.Explain(err, "patching sync "+key.String(), key)
	}
	return nil
}

// waitHandled polls the Sync until the controller handled token. Each read
// uses ctx, not the deadline, so that the last one is not cut short.
func waitHandled(ctx context.Context, c client.Client, key client.ObjectKey, token string, timeout time.Duration) (*capstanv1.Sync, error) {
	if timeout <= 0 {
		timeout = DefaultReconcileTimeout
	}
	deadline := time.Now().Add(timeout)
	s := &capstanv1.Sync{}
	for {
		err := c.Get(ctx, key, s)
		switch {
		case ctx.Err() != nil:
			return nil, ctx.Err()
		case err == nil && s.HandledRequest(token):
			return s, nil
		case apierrors.IsNotFound(err):
			return nil, kubeclient.Explain(err, "", key) // deleted while we waited
		}
		if time.Now().After(deadline) {
			if err != nil {
				return nil, kubeclient.Explain(err, "reading sync "+key.String(), key)
			}
			return nil, notHandled(s, key, timeout)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
}

func notHandled(s *capstanv1.Sync, key client.ObjectKey, timeout time.Duration) error {
	state := "no status yet"
	if c := apimeta.FindStatusCondition(s.Status.Conditions, capstanv1.ReadyCondition); c != nil {
		state = fmt.Sprintf("Ready=%s %s: %s", c.Status, c.Reason, oneLine(c.Message, 300))
	}
	return &kubeclient.Error{
		Err:  fmt.Errorf("the controller did not handle the reconcile of %s within %s (%s)", key, timeout, state),
		Next: "is the controller running? Check with `capstan check`",
	}
}

// Outcome describes a reconcile the controller handled: a success line, or
// an error wrapping ErrFailed when the Sync is not Ready.
func Outcome(s *capstanv1.Sync) (string, error) {
	key := client.ObjectKeyFromObject(s)
	ready := apimeta.FindStatusCondition(s.Status.Conditions, capstanv1.ReadyCondition)
	if s.Spec.Suspend {
		return fmt.Sprintf("✓ %s is suspended", key), nil
	}
	if ready == nil || ready.Status != metav1.ConditionTrue {
		reason, msg := "Unknown", "no Ready condition"
		if ready != nil {
			reason, msg = ready.Reason, oneLine(ready.Message, 2000)
		}
		rev := s.Status.LastAttemptedRevision
		if rev == "" {
			rev = "its source"
		}
		return "", &kubeclient.Error{
			Err:  fmt.Errorf("%w: %s at %s: %s: %s", ErrFailed, key, rev, reason, msg),
			Next: "see `" + command("status", key) + "` for its inventory and events",
		}
	}
	line := fmt.Sprintf("✓ %s applied revision %s", key, s.Status.LastAppliedRevision)
	if r := s.Status.LastRun; r != nil {
		line += fmt.Sprintf(" (%d created, %d changed, %d pruned, %d unchanged", r.Created, r.Changed, r.Pruned, r.Unchanged)
		if r.Drifted > 0 {
			line += fmt.Sprintf(", %d drift corrected", r.Drifted)
		}
		line += ", took " + roundDuration(r.Duration.Duration).String() + ")"
	}
	return line, nil
}

// command spells a capstan command about the Sync key, with -n unless the
// Sync is in Capstan's own namespace, the default.
func command(verb string, key client.ObjectKey) string {
	if key.Namespace == manifests.Namespace {
		return "capstan " + verb + " " + key.Name
	}
	return "capstan " + verb + " -n " + key.Namespace + " " + key.Name
}
