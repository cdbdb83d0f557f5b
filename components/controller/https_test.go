package controller

import (
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	capstanv1 "github.com/capstan-gitops/capstan/api/v1"
)

// TestHTTPSWithCABundle syncs over HTTPS from a server whose certificate only
// a private CA vouches for: the CA in the Secret (ca.crt, or Flux's older
// caFile) makes it Ready; without it the certificate is refused.
func TestHTTPSWithCABundle(t *testing.T) {
	t.Parallel()
	ns := env.cluster.Namespace(t)
	r := newRepo(t)
	rev := r.commit(t, map[string]string{"a.yaml": configMap(ns, "a", "https")})
	basic := func(extra map[string][]byte) map[string][]byte {
		data := map[string][]byte{"username": []byte(r.srv.Username()), "password": []byte(r.srv.Password())}
		for k, v := range extra {
			data[k] = v
		}
		return data
	}
	secrets := map[string]string{
		"ca-crt":  createSecret(t, ns, "https-ca-crt", basic(map[string][]byte{"ca.crt": r.srv.CACertPEM()})),
		"ca-file": createSecret(t, ns, "https-ca-file", basic(map[string][]byte{"caFile": r.srv.CACertPEM()})),
		"no-ca":   createSecret(t, ns, "https-no-ca", basic(nil)),
	}
	for name, secret := range secrets {
		s := &capstanv1.Sync{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}, Spec: capstanv1.SyncSpec{
			URL: r.srv.HTTPSURL(r.name), Interval: metav1.Duration{Duration: time.Hour},
			SecretRef: &capstanv1.LocalObjectReference{Name: secret},
		}}
		if err := env.admin.Create(t.Context(), s); err != nil {
			t.Fatalf("creating sync %s: %v", name, err)
		}
	}

	waitReady(t, ns, "ca-crt", rev)
	waitReady(t, ns, "ca-file", rev)
	if got := configMapValue(t, ns, "a"); got != "https" {
		t.Errorf("configmap a = %q, want %q", got, "https")
	}
	s := waitFailed(t, ns, "no-ca", capstanv1.AuthenticationFailedReason)
	msg := readyMessage(s)
	t.Logf("no-ca: %s", msg)
	if !strings.Contains(msg, "tls certificate verification failed") || !strings.Contains(msg, "x509") {
		t.Errorf("Ready message %q does not explain the certificate failure", msg)
	}
	if strings.Contains(msg, r.srv.Password()) {
		t.Errorf("Ready message %q leaks the password", msg)
	}
	if s.Status.LastAppliedRevision != "" {
		t.Errorf("no-ca applied %s", s.Status.LastAppliedRevision)
	}
}
