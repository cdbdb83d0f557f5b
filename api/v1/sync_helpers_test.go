package v1

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

func ptr[T any](v T) *T { return &v }

func TestSyncDefaults(t *testing.T) {
	t.Parallel()
	type want struct {
		Interval, RetryInterval, Timeout time.Duration
		Prune, Wait                      bool
		Ref                              GitRef
	}
	defaults := want{
		Interval: time.Minute, RetryInterval: time.Minute, Timeout: 5 * time.Minute,
		Prune: true, Wait: true, Ref: GitRef{Branch: "main"},
	}
	tests := []struct {
		name string
		spec SyncSpec
		want want
	}{
		{name: "empty spec", spec: SyncSpec{}, want: defaults},
		{name: "empty ref", spec: SyncSpec{Ref: &GitRef{}}, want: defaults},
		{
			name: "zero durations fall back",
			spec: SyncSpec{RetryInterval: &metav1.Duration{}, Timeout: &metav1.Duration{}},
			want: defaults,
		},
		{
			name: "retry interval follows interval",
			spec: SyncSpec{Interval: metav1.Duration{Duration: 10 * time.Minute}},
			want: want{
				Interval: 10 * time.Minute, RetryInterval: 10 * time.Minute, Timeout: 5 * time.Minute,
				Prune: true, Wait: true, Ref: GitRef{Branch: "main"},
			},
		},
		{
			name: "everything set",
			spec: SyncSpec{
				Interval:      metav1.Duration{Duration: time.Hour},
				RetryInterval: &metav1.Duration{Duration: 30 * time.Second},
				Timeout:       &metav1.Duration{Duration: 2 * time.Minute},
				Prune:         ptr(false),
				Wait:          ptr(false),
				Ref:           &GitRef{Tag: "v1.0.0"},
			},
			want: want{
				Interval: time.Hour, RetryInterval: 30 * time.Second, Timeout: 2 * time.Minute,
				Prune: false, Wait: false, Ref: GitRef{Tag: "v1.0.0"},
			},
		},
		{
			name: "explicit true and commit",
			spec: SyncSpec{Prune: ptr(true), Wait: ptr(true), Ref: &GitRef{Commit: "0123456789abcdef0123456789abcdef01234567"}},
			want: want{
				Interval: time.Minute, RetryInterval: time.Minute, Timeout: 5 * time.Minute,
				Prune: true, Wait: true, Ref: GitRef{Commit: "0123456789abcdef0123456789abcdef01234567"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := &Sync{Spec: tt.spec}
			got := want{
				Interval: s.Interval(), RetryInterval: s.RetryInterval(), Timeout: s.Timeout(),
				Prune: s.PruneEnabled(), Wait: s.WaitEnabled(), Ref: s.Ref(),
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("effective values (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSyncConditions(t *testing.T) {
	t.Parallel()
	s := &Sync{}
	conds := []metav1.Condition{{Type: ReadyCondition, Status: metav1.ConditionTrue, Reason: SucceededReason}}
	s.SetConditions(conds)
	if diff := cmp.Diff(conds, s.GetConditions()); diff != "" {
		t.Errorf("GetConditions after SetConditions (-want +got):\n%s", diff)
	}
}

func TestAddToScheme(t *testing.T) {
	t.Parallel()
	s := runtime.NewScheme()
	if err := AddToScheme(s); err != nil {
		t.Fatalf("AddToScheme: %v", err)
	}
	for _, obj := range []runtime.Object{&Sync{}, &SyncList{}} {
		gvks, _, err := s.ObjectKinds(obj)
		if err != nil {
			t.Fatalf("ObjectKinds(%T): %v", obj, err)
		}
		if gvks[0].GroupVersion() != GroupVersion {
			t.Errorf("%T registered as %s", obj, gvks[0])
		}
	}
	if got := SyncGroupVersionKind().String(); got != "capstan.dev/v1, Kind=Sync" {
		t.Errorf("SyncGroupVersionKind() = %s", got)
	}
}

// Unset fields must be left out of the JSON so the API server applies the
// CRD defaults.
func TestSyncJSONOmitsUnset(t *testing.T) {
	t.Parallel()
	s := Sync{Spec: SyncSpec{URL: "https://example.com/repo.git"}, Status: SyncStatus{LastRun: &RunStats{}}}
	got, err := json.Marshal(s.Spec)
	if err != nil {
		t.Fatalf("marshal spec: %v", err)
	}
	if want := `{"url":"https://example.com/repo.git"}`; string(got) != want {
		t.Errorf("spec JSON = %s, want %s", got, want)
	}
	got, err = json.Marshal(s.Status.LastRun)
	if err != nil {
		t.Fatalf("marshal run stats: %v", err)
	}
	if want := `{"created":0,"changed":0,"unchanged":0,"pruned":0,"drifted":0}`; string(got) != want {
		t.Errorf("run stats JSON = %s, want %s", got, want)
	}
}

func TestReasonsAreDistinct(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for _, r := range Reasons() {
		if seen[r] {
			t.Errorf("reason %s listed twice", r)
		}
		seen[r] = true
	}
	if len(seen) != 12 {
		t.Errorf("Reasons() has %d entries, want 12", len(seen))
	}
}

func TestDeepCopy(t *testing.T) {
	t.Parallel()
	s := &Sync{Spec: SyncSpec{Ref: &GitRef{Branch: "dev"}, DependsOn: []LocalObjectReference{{Name: "infra"}}}}
	c := s.DeepCopy()
	c.Spec.Ref.Branch = "prod"
	c.Spec.DependsOn[0].Name = "apps"
	if s.Spec.Ref.Branch != "dev" || s.Spec.DependsOn[0].Name != "infra" {
		t.Errorf("DeepCopy shares memory with the original: %+v", s.Spec)
	}
}
