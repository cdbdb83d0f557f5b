package git

import (
	"errors"
	"net/netip"
	"net/url"
	"strings"
	"testing"

	"github.com/go-git/go-git/v5/plumbing/transport"
)

// parseURLCase is a URL, whether insecure http is allowed, and the host
// ParseURL should find ("" when it must refuse the URL).
type parseURLCase struct {
	raw      string
	insecure bool
	wantHost string
}

func parseURLCases() []parseURLCase {
	return []parseURLCase{
		{"https://github.com/org/repo.git", false, "github.com"},
		{"https://git.example.com:8443/org/repo", false, "git.example.com"},
		{"ssh://git@github.com/org/repo.git", false, "github.com"},
		{"ssh://git@127.0.0.1:2222/repo.git", false, "127.0.0.1"},
		{"ssh://github.com/org/repo.git", false, "github.com"},
		{"ssh://git@[::1]:2222/repo.git", false, "::1"},
		{"git@github.com:org/repo.git", false, "github.com"},
		{"git@127.0.0.1:2222:repo.git", false, "127.0.0.1"},
		{"http://127.0.0.1:8080/repo.git", false, "127.0.0.1"},
		{"http://localhost/repo.git", false, "localhost"},
		{"http://[::1]:8080/repo.git", false, "::1"},
		{"http://git.internal/repo.git", true, "git.internal"},
		{"http://git.internal/repo.git", false, ""},
		{"http://10.0.0.1/repo.git", false, ""},
		{"file:///srv/repo.git", true, ""},
		{"/srv/repo.git", true, ""},
		{"./repo", true, ""},
		{"git://github.com/org/repo.git", true, ""},
		{"ext::sh -c touch% /tmp/pwned", true, ""},
		{"ftp://example.com/repo.git", true, ""},
		{"https://user:secret@github.com/org/repo.git", false, ""},
		{"https://token@github.com/org/repo.git", false, ""},
		{"ssh://git:secret@github.com/org/repo.git", false, ""},
		{"https://github.com", false, ""},
		{"https://github.com/", false, ""},
		{"https:///repo.git", false, ""},
		{"https://169.254.169.254/latest/meta-data", false, ""},
		{"ssh://git@169.254.169.254/repo.git", false, ""},
		{"git@169.254.1.1:repo.git", false, ""},
		{"https://[fe80::1%25eth0]/repo.git", false, ""},
		{"https://[::ffff:169.254.169.254]/repo.git", false, ""},
		{"https://[64:ff9b::a9fe:a9fe]/repo.git", false, ""},
		{"https://[fd00:ec2::254]/repo.git", false, ""},
		{"https://metadata.google.internal/computeMetadata/v1", false, ""},
		{"https://METADATA.google.internal./x", false, ""},
		{"https://2852039166/repo.git", false, ""},
		{"https://0xa9fea9fe/repo.git", false, ""},
		{"https://0251.0376.0251.0376/repo.git", false, ""},
		{"https://github.com/org/repo.git\n", false, ""},
		{" https://github.com/org/repo.git", false, ""},
		{"ssh://-oProxyCommand=id/repo.git", false, ""},
		{"git@github.com:-repo.git", false, ""},
		{"", false, ""},
	}
}

func TestParseURL(t *testing.T) {
	t.Parallel()
	for _, tt := range parseURLCases() {
		t.Run(tt.raw, func(t *testing.T) {
			t.Parallel()
			ep, err := ParseURL(tt.raw, tt.insecure)
			if tt.wantHost == "" {
				if err == nil {
					t.Fatalf("accepted, host %q", ep.Host())
				}
				if !errors.Is(err, ErrInvalidURL) || !IsTerminal(err) {
					t.Errorf("error %v is not a terminal ErrInvalidURL", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("refused: %v", err)
			}
			if ep.Host() != tt.wantHost || ep.String() != tt.raw {
				t.Errorf("got host %q url %q, want %q %q", ep.Host(), ep.String(), tt.wantHost, tt.raw)
			}
		})
	}
}

func TestParseURLErrorIsRedacted(t *testing.T) {
	t.Parallel()
	_, err := ParseURL("https://user:hunter2-secret@github.com/org/repo.git", false)
	if err == nil || strings.Contains(err.Error(), "hunter2-secret") {
		t.Fatalf("error %v leaks the password", err)
	}
}

func FuzzParseURL(f *testing.F) {
	for _, seed := range []string{
		"https://github.com/org/repo.git", "ssh://git@h:22/r", "git@h:r", "git@h:22:r", "http://127.0.0.1/r",
		"https://u:p@h/r", "file:///r", "https://169.254.169.254/r", "https://[::ffff:a9fe:a9fe]/r", "h:r",
	} {
		f.Add(seed, false)
	}
	f.Fuzz(func(t *testing.T, raw string, insecure bool) {
		ep, err := ParseURL(raw, insecure)
		if err != nil {
			if !errors.Is(err, ErrInvalidURL) {
				t.Fatalf("error %v is not ErrInvalidURL", err)
			}
			return
		}
		// What go-git will dial must obey the rules.
		te, err := transport.NewEndpoint(ep.String())
		if err != nil {
			t.Fatalf("accepted %q that go-git cannot parse: %v", raw, err)
		}
		if te.Password != "" || (te.Protocol != "ssh" && te.User != "") {
			t.Fatalf("accepted credentials in %q", raw)
		}
		switch te.Protocol {
		case "https", "ssh":
		case "http":
			if !insecure && !strings.EqualFold(ep.Host(), "localhost") && !strings.HasSuffix(strings.ToLower(ep.Host()), ".localhost") {
				addr, err := netip.ParseAddr(ep.Host())
				if err != nil || !addr.Unmap().IsLoopback() {
					t.Fatalf("accepted plain http to %q", ep.Host())
				}
			}
		default:
			t.Fatalf("accepted scheme %q in %q", te.Protocol, raw)
		}
		if addr, err := netip.ParseAddr(ep.Host()); err == nil && addr.Unmap().IsLinkLocalUnicast() {
			t.Fatalf("accepted link-local host in %q", raw)
		}
		if u, err := url.Parse(raw); err == nil && u.User != nil {
			if _, ok := u.User.Password(); ok {
				t.Fatalf("accepted a password in %q", raw)
			}
		}
	})
}
