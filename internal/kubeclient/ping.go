package kubeclient

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/capstan-gitops/capstan/internal/redact"

	"k8s.io/apimachinery/pkg/version"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// ErrUnreachable means the cluster's API server did not answer.
var ErrUnreachable = errors.New("kubernetes api server unreachable")

// Ping asks the API server of cfg for its version, giving up after timeout.
// Failures wrap ErrUnreachable and name the server URL.
func Ping(ctx context.Context, cfg *rest.Config, timeout time.Duration) (*version.Info, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	c := rest.CopyConfig(cfg)
	c.Timeout = timeout
	cs, err := kubernetes.NewForConfig(c)
	if err != nil {
		return nil, fmt.Errorf("client for %s: %w", redact.URL(cfg.Host), err)
	}
	raw, err := cs.Discovery().RESTClient().Get().AbsPath("/version").Do(ctx).Raw()
	if err != nil {
		if ctx.Err() != nil {
			err = fmt.Errorf("no answer within %s", timeout)
		}
		return nil, fmt.Errorf("%w at %s: %w", ErrUnreachable, redact.URL(cfg.Host), err)
	}
	var info version.Info
	if err := json.Unmarshal(raw, &info); err != nil {
		return nil, fmt.Errorf("decoding version of %s: %w", redact.URL(cfg.Host), err)
	}
	return &info, nil
}
