package git

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/capstan-gitops/capstan/internal/redact"

	"github.com/go-git/go-git/v5/plumbing/transport"
)

// Endpoint is a git remote that ParseURL accepted. The zero Endpoint is not
// usable: every function taking one refuses it with ErrInvalidURL.
type Endpoint struct {
	url    string
	scheme string
	user   string
	host   string
	port   int
	path   string
}

// ParseURL validates a remote URL: https://host/path, ssh://[user@]host[:port]/path
// or scp-like [user@]host:path (go-git also reads host:port:path). Plain
// http:// is accepted only for loopback hosts unless insecure is true. It
// refuses any other scheme (file://, git://, ext::), passwords or tokens in
// the URL (and any user name in http(s) URLs), link-local and cloud metadata
// hosts, and whitespace or control characters. Errors match ErrInvalidURL.
//
// The URL is parsed by go-git's own parser, the one that later connects, so
// the host checked here is the host dialled. Host names are not resolved:
// a name whose DNS record points at a refused address is not caught.
func ParseURL(raw string, insecure bool) (Endpoint, error) {
	ep, err := parseURL(raw, insecure)
	if err != nil {
		return Endpoint{}, fmt.Errorf("parsing git URL %q: %w", redact.URL(raw), err)
	}
	return ep, nil
}

func parseURL(raw string, insecure bool) (Endpoint, error) {
	if raw == "" {
		return Endpoint{}, fmt.Errorf("%w: empty", ErrInvalidURL)
	}
	for _, r := range raw {
		if r <= ' ' || r == 0x7f {
			return Endpoint{}, fmt.Errorf("%w: contains whitespace or control characters", ErrInvalidURL)
		}
	}
	te, err := transport.NewEndpoint(raw)
	if err != nil {
		return Endpoint{}, fmt.Errorf("%w: %w", ErrInvalidURL, err)
	}
	ep := Endpoint{
		url:    raw,
		scheme: te.Protocol,
		user:   te.User,
		host:   strings.TrimSuffix(strings.TrimPrefix(te.Host, "["), "]"),
		port:   te.Port,
		path:   te.Path,
	}
	if err := ep.check(te.Password, insecure); err != nil {
		return Endpoint{}, fmt.Errorf("%w: %w", ErrInvalidURL, err)
	}
	return ep, nil
}

// check applies the scheme, credential, path and host rules.
func (e Endpoint) check(password string, insecure bool) error {
	switch e.scheme {
	case "https", "http":
		if e.user != "" || password != "" {
			return fmt.Errorf("credentials in an %s URL: put them in the Secret", e.scheme)
		}
	case "ssh":
		if password != "" {
			return fmt.Errorf("password in an ssh URL: use an identity in the Secret")
		}
	default:
		return fmt.Errorf("scheme %q is not supported: use https or ssh", e.scheme)
	}
	if e.path == "" || e.path == "/" {
		return fmt.Errorf("no repository path")
	}
	if strings.HasPrefix(e.path, "-") || strings.HasPrefix(e.host, "-") || strings.HasPrefix(e.user, "-") {
		return fmt.Errorf("host, user or path starts with '-'")
	}
	if e.port < 0 || e.port > 65535 {
		return fmt.Errorf("port %d out of range", e.port)
	}
	return checkHost(e.host, e.scheme == "http" && !insecure)
}

// checkHost refuses empty, link-local, metadata and ambiguous numeric
// hosts, and, if loopbackOnly, any host that is not loopback.
func checkHost(host string, loopbackOnly bool) error {
	h := strings.TrimSuffix(strings.ToLower(host), ".")
	if h == "" {
		return fmt.Errorf("no host")
	}
	if h == "metadata.google.internal" {
		return fmt.Errorf("host %q is a cloud metadata service", host)
	}
	loopback := h == "localhost" || strings.HasSuffix(h, ".localhost")
	if addr, err := netip.ParseAddr(h); err == nil {
		if blockedAddr(addr) {
			return fmt.Errorf("host %q is link-local or a metadata address", host)
		}
		loopback = addr.Unmap().IsLoopback()
	} else if numericHost(h) {
		return fmt.Errorf("host %q looks numeric but is not a canonical IP address", host)
	}
	if loopbackOnly && !loopback {
		return fmt.Errorf("plain http is only allowed to loopback hosts: use https")
	}
	return nil
}

// blockedAddr reports link-local (which includes the 169.254.169.254
// metadata service) and the AWS IPv6 metadata address, also when written as
// IPv4-mapped or NAT64 IPv6.
func blockedAddr(addr netip.Addr) bool {
	addr = addr.WithZone("").Unmap()
	if nat64 := netip.MustParsePrefix("64:ff9b::/96"); nat64.Contains(addr) {
		b := addr.As16()
		addr = netip.AddrFrom4([4]byte(b[12:]))
	}
	return addr.IsLinkLocalUnicast() || addr.IsLinkLocalMulticast() ||
		addr == netip.MustParseAddr("fd00:ec2::254")
}

// numericHost reports whether a host that is not a canonical IP address would
// still be read as one by some resolvers (octal, hex or short forms such as
// 0251.0376.0251.0376, 0xa9fea9fe or 2852039166). No top-level domain is
// numeric, so such names are never legitimate.
func numericHost(h string) bool {
	last := h[strings.LastIndexByte(h, '.')+1:]
	if strings.HasPrefix(last, "0x") {
		return true
	}
	return (last != "" && strings.Trim(last, "0123456789") == "") || strings.Contains(h, ":")
}

// String is the URL as given to ParseURL; it holds no credentials.
func (e Endpoint) String() string { return e.url }

// Scheme is "https", "http" or "ssh" (also for scp-like addresses).
func (e Endpoint) Scheme() string { return e.scheme }

// Host is the host name or IP address, without port or brackets.
func (e Endpoint) Host() string { return e.host }

// valid refuses the zero Endpoint.
func (e Endpoint) valid() error {
	if e.url == "" {
		return fmt.Errorf("%w: endpoint not built by ParseURL", ErrInvalidURL)
	}
	return nil
}
