package app

import (
	"fmt"
	"io"
	"time"

	"github.com/go-logr/logr"
	"github.com/urfave/cli/v2"
	"go.uber.org/zap/zapcore"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/capstan-gitops/capstan/components/controller"
	"github.com/capstan-gitops/capstan/internal/kubeconfig"
)

func newControllerCommand() *cli.Command {
	return &cli.Command{
		Name:  "controller",
		Usage: "run the sync controller (what the capstan-controller Deployment runs)",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "kubeconfig", Usage: "kubeconfig to use out of cluster (default: in-cluster config, then KUBECONFIG)", EnvVars: []string{"KUBECONFIG"}},
			&cli.StringFlag{Name: "context", Usage: "kubeconfig context"},
			&cli.StringFlag{Name: "metrics-bind-address", Value: ":8080", Usage: "metrics listen address, 0 to disable"},
			&cli.StringFlag{Name: "health-probe-bind-address", Value: ":8081", Usage: "health probe listen address"},
			&cli.StringFlag{Name: "webhook-bind-address", Value: "0", Usage: "webhook receiver listen address (the Deployment uses :9292), 0 to disable"},
			&cli.StringFlag{Name: "pprof-bind-address", Usage: "serve net/http/pprof on this address (off when empty)"},
			&cli.BoolFlag{Name: "leader-elect", Value: true, Usage: "elect a leader with a Lease, so that only one replica reconciles"},
			&cli.StringFlag{Name: "leader-election-namespace", Value: "capstan-system", Usage: "namespace of the leader election Lease"},
			&cli.IntFlag{Name: "concurrent", Value: 4, Usage: "how many Syncs reconcile at once"},
			&cli.StringFlag{Name: "log-level", Value: "info", Usage: "debug, info or error"},
			&cli.StringFlag{Name: "log-format", Value: "json", Usage: "json or text"},
			&cli.StringFlag{Name: "work-dir", Usage: "directory for git checkouts (default: under the temp dir)"},
			&cli.Float64Flag{Name: "kube-api-qps", Value: 500, Usage: "steady requests per second to the API server, per kind (a ceiling: an apply keeps at most 16 requests in flight, and the API server's priority and fairness guards it)"},
			&cli.IntFlag{Name: "kube-api-burst", Value: 1000, Usage: "request burst to the API server, per kind"},
			&cli.DurationFlag{Name: "graceful-shutdown-timeout", Value: 25 * time.Second, Usage: "how long in-flight reconciles may run after SIGTERM"},
		},
		Action: func(c *cli.Context) error {
			logger, err := newLogger(c.App.ErrWriter, c.String("log-level"), c.String("log-format"))
			if err != nil {
				return err
			}
			// controller-runtime's packages log through its delegating logger;
			// set it so they log here and not a "SetLogger was never called" trace.
			ctrllog.SetLogger(logger)
			cfg, err := kubeconfig.Load(c.String("kubeconfig"), c.String("context"))
			if err != nil {
				return err
			}
			cfg.QPS, cfg.Burst = float32(c.Float64("kube-api-qps")), c.Int("kube-api-burst")
			return controller.Run(c.Context, controller.Options{
				Config:                  cfg,
				Logger:                  logger,
				MetricsAddr:             c.String("metrics-bind-address"),
				HealthAddr:              c.String("health-probe-bind-address"),
				PprofAddr:               c.String("pprof-bind-address"),
				WebhookAddr:             c.String("webhook-bind-address"),
				LeaderElect:             c.Bool("leader-elect"),
				LeaderElectionNamespace: c.String("leader-election-namespace"),
				Concurrent:              c.Int("concurrent"),
				WorkDir:                 c.String("work-dir"),
				GracefulShutdown:        c.Duration("graceful-shutdown-timeout"),
			})
		},
	}
}

// newLogger returns the controller's structured logger.
func newLogger(w io.Writer, level, format string) (logr.Logger, error) {
	var lvl zapcore.Level
	switch level {
	case "info":
		lvl = zapcore.InfoLevel
	case "debug":
		lvl = zapcore.DebugLevel
	case "error":
		lvl = zapcore.ErrorLevel
	default:
		return logr.Logger{}, fmt.Errorf("unknown log level %q: use debug, info or error", level)
	}
	if format != "json" && format != "text" {
		return logr.Logger{}, fmt.Errorf("unknown log format %q: use json or text", format)
	}
	encoder := zap.JSONEncoder()
	if format == "text" {
		encoder = zap.ConsoleEncoder()
	}
	return zap.New(zap.WriteTo(w), zap.Level(lvl), encoder), nil
}
