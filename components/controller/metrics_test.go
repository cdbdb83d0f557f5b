package controller

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	capstanv1 "github.com/capstan-gitops/capstan/api/v1"
)

func TestMetricsRecordDurationAndLastApplied(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	m, err := NewMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	s := &capstanv1.Sync{ObjectMeta: metav1.ObjectMeta{Namespace: "apps", Name: "web"}}
	m.observe(s, true, 300*time.Millisecond)
	m.observe(s, false, 2*time.Second)

	if n := testutil.CollectAndCount(m.duration); n != 2 {
		t.Errorf("duration series = %d, want one per result (2)", n)
	}
	want := `
# HELP capstan_sync_duration_seconds Duration of Sync reconciles.
# TYPE capstan_sync_duration_seconds histogram
`
	if err := testutil.CollectAndCompare(m.duration, strings.NewReader(want+histogram("success", 0.3)+histogram("failure", 2)), "capstan_sync_duration_seconds"); err != nil {
		t.Error(err)
	}
	if v := testutil.ToFloat64(m.lastApplied.WithLabelValues("apps", "web")); v < float64(time.Now().Add(-time.Minute).Unix()) {
		t.Errorf("last applied timestamp = %v, want about now", v)
	}

	// A second manager in the same process shares the registered collectors.
	again, err := NewMetrics(reg)
	if err != nil || again.duration != m.duration {
		t.Errorf("re-registering: %v, shared=%v", err, again != nil && again.duration == m.duration)
	}
	m.forget(s)
	if n := testutil.CollectAndCount(m.duration); n != 0 {
		t.Errorf("series after forget = %d, want 0", n)
	}
}

// histogram renders the expected text of one observation of v seconds.
func histogram(result string, v float64) string {
	buckets := []float64{0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300}
	var b strings.Builder
	for _, le := range buckets {
		n := 0
		if v <= le {
			n = 1
		}
		b.WriteString(`capstan_sync_duration_seconds_bucket{name="web",namespace="apps",result="` + result + `",le="` + trimFloat(le) + `"} ` + itoa(n) + "\n")
	}
	b.WriteString(`capstan_sync_duration_seconds_bucket{name="web",namespace="apps",result="` + result + `",le="+Inf"} 1` + "\n")
	b.WriteString(`capstan_sync_duration_seconds_sum{name="web",namespace="apps",result="` + result + `"} ` + trimFloat(v) + "\n")
	b.WriteString(`capstan_sync_duration_seconds_count{name="web",namespace="apps",result="` + result + `"} 1` + "\n")
	return b.String()
}

func trimFloat(f float64) string { return strings.TrimSuffix(strings.TrimRight(fmtFloat(f), "0"), ".") }

func fmtFloat(f float64) string { return strconv.FormatFloat(f, 'f', 6, 64) }

func itoa(n int) string { return strconv.Itoa(n) }
