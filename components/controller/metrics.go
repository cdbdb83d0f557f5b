package controller

import (
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	capstanv1 "github.com/capstan-gitops/capstan/api/v1"
)

// Metrics are the controller's own Prometheus metrics, beside
// controller-runtime's.
type Metrics struct {
	duration    *prometheus.HistogramVec
	lastApplied *prometheus.GaugeVec
	build       *prometheus.HistogramVec
}

// NewMetrics creates the metrics and registers them with reg.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "capstan_sync_duration_seconds",
			Help:    "Duration of Sync reconciles.",
			Buckets: []float64{0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300},
		}, []string{"namespace", "name", "result"}),
		lastApplied: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "capstan_sync_last_applied_timestamp_seconds",
			Help: "Unix time of the last successful apply of a Sync.",
		}, []string{"namespace", "name"}),
		build: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "capstan_sync_build_duration_seconds",
			Help:    "Duration of the build step of Sync reconciles (reading, decrypting, rendering charts, kustomize); cached=true when an unchanged revision was served from the controller's build cache.",
			Buckets: []float64{0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10},
		}, []string{"namespace", "name", "cached"}),
	}
	var err error
	if m.build, err = register(reg, m.build); err != nil {
		return nil, err
	}
	if m.duration, err = register(reg, m.duration); err != nil {
		return nil, err
	}
	if m.lastApplied, err = register(reg, m.lastApplied); err != nil {
		return nil, err
	}
	return m, nil
}

// register registers c, or returns the collector already registered under
// its name (several managers in one test process share a registry).
func register[C prometheus.Collector](reg prometheus.Registerer, c C) (C, error) {
	if err := reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if existing, ok := are.ExistingCollector.(C); ok {
				return existing, nil
			}
		}
		return c, fmt.Errorf("registering metrics: %w", err)
	}
	return c, nil
}

func (m *Metrics) observe(s *capstanv1.Sync, ok bool, d time.Duration) {
	if m == nil {
		return
	}
	result := "success"
	if !ok {
		result = "failure"
	}
	m.duration.WithLabelValues(s.Namespace, s.Name, result).Observe(d.Seconds())
	if ok {
		m.lastApplied.WithLabelValues(s.Namespace, s.Name).SetToCurrentTime()
	}
}

// observeBuild records how long a build step took, and whether it was
// served from the cache.
func (m *Metrics) observeBuild(s *capstanv1.Sync, cached bool, d time.Duration) {
	if m == nil {
		return
	}
	m.build.WithLabelValues(s.Namespace, s.Name, strconv.FormatBool(cached)).Observe(d.Seconds())
}

func (m *Metrics) forget(s *capstanv1.Sync) {
	if m == nil {
		return
	}
	for _, c := range []string{"true", "false"} {
		m.build.DeleteLabelValues(s.Namespace, s.Name, c)
	}
	for _, r := range []string{"success", "failure"} {
		m.duration.DeleteLabelValues(s.Namespace, s.Name, r)
	}
	m.lastApplied.DeleteLabelValues(s.Namespace, s.Name)
}
