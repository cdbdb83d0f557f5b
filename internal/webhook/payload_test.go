package webhook

import (
	"net/http"
	"testing"
)

func TestMatches(t *testing.T) {
	t.Parallel()
	tests := []struct {
		pushed, branch, tag string
		want                bool
	}{
		{"refs/heads/main", "main", "", true},
		{"refs/heads/main", "dev", "", false},
		{"refs/heads/feature/main", "main", "", false},
		{"refs/tags/v1", "", "v1", true},
		{"refs/heads/v1", "", "v1", false},
		{"refs/tags/v1", "v1", "", false},
		{"", "main", "", true},
		{"refs/heads/main", "", "", false},
		{"", "", "", false},
	}
	for _, tt := range tests {
		if got := Matches(tt.pushed, tt.branch, tt.tag); got != tt.want {
			t.Errorf("Matches(%q, %q, %q) = %t, want %t", tt.pushed, tt.branch, tt.tag, got, tt.want)
		}
	}
}

func TestDetect(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		headers map[string]string
		want    Sender
	}{
		{"github", map[string]string{GitHubEventHeader: "push", GitHubSignatureHeader: "sha256=00"}, GitHub},
		{"gitea sends github headers too", map[string]string{GitHubEventHeader: "push", GiteaEventHeader: "push", GiteaSignatureHeader: "00"}, Gitea},
		{"forgejo", map[string]string{ForgejoEventHeader: "push", GiteaEventHeader: "push"}, Forgejo},
		{"gitlab", map[string]string{GitLabEventHeader: "Push Hook", GitLabTokenHeader: "x"}, GitLab},
		{"generic", map[string]string{GenericSignatureHeader: "sha256=00"}, Generic},
		{"nothing", nil, Generic},
	}
	for _, tt := range tests {
		h := http.Header{}
		for k, v := range tt.headers {
			h.Set(k, v)
		}
		if got := Detect(h); got != tt.want {
			t.Errorf("%s: Detect = %s, want %s", tt.name, got, tt.want)
		}
	}
}

func TestParse(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		sender  Sender
		event   string
		body    string
		want    Event
		wantErr bool
	}{
		{name: "github push", sender: GitHub, event: "push", body: `{"ref":"refs/heads/main","after":"abc"}`, want: Event{Kind: Push, Ref: "refs/heads/main", After: "abc"}},
		{name: "gitlab tag push", sender: GitLab, event: "Tag Push Hook", body: `{"object_kind":"tag_push","ref":"refs/tags/v1","after":"abc"}`, want: Event{Kind: Push, Ref: "refs/tags/v1", After: "abc"}},
		{name: "github ping ignores the body", sender: GitHub, event: "ping", body: `not json`, want: Event{Kind: Ping}},
		{name: "generic without ref", sender: Generic, body: `{}`, want: Event{Kind: Push}},
		{name: "github push without ref", sender: GitHub, event: "push", body: `{}`, wantErr: true},
		{name: "ref not a string", sender: GitHub, event: "push", body: `{"ref":1}`, wantErr: true},
		{name: "not json", sender: Gitea, event: "push", body: `<xml/>`, wantErr: true},
		{name: "not a full ref", sender: Gitea, event: "push", body: `{"ref":"main"}`, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := http.Header{}
			switch tt.sender {
			case GitHub:
				h.Set(GitHubEventHeader, tt.event)
			case GitLab:
				h.Set(GitLabEventHeader, tt.event)
			case Gitea:
				h.Set(GiteaEventHeader, tt.event)
			}
			got, err := Parse(tt.sender, h, []byte(tt.body))
			if (err != nil) != tt.wantErr {
				t.Fatalf("Parse error = %v, want error %t", err, tt.wantErr)
			}
			if err == nil && got != tt.want {
				t.Errorf("Parse = %+v, want %+v", got, tt.want)
			}
		})
	}
}

// FuzzParse feeds untrusted deliveries to the parser and the verifier: they
// must never panic, and a parsed push always carries a full ref or none.
func FuzzParse(f *testing.F) {
	f.Add("push", []byte(`{"ref":"refs/heads/main","after":"abc"}`), []byte("sha256=00"))
	f.Add("Push Hook", []byte(`{"ref":"refs/tags/v1"}`), []byte(""))
	f.Add("ping", []byte(`{"zen":"x"}`), []byte("zz"))
	f.Add("", []byte(`{"ref":null}`), []byte("sha256="))
	f.Fuzz(func(t *testing.T, event string, body, sig []byte) {
		for _, sender := range []Sender{GitHub, GitLab, Gitea, Forgejo, Generic} {
			h := http.Header{}
			h.Set(GitHubEventHeader, event)
			h.Set(GitLabEventHeader, event)
			h.Set(GiteaEventHeader, event)
			h.Set(ForgejoEventHeader, event)
			h.Set(GitHubSignatureHeader, string(sig))
			h.Set(GiteaSignatureHeader, string(sig))
			h.Set(GenericSignatureHeader, string(sig))
			h.Set(GitLabTokenHeader, string(sig))
			if err := Verify(sender, h, body, []byte("k")); err == nil && string(sig) != "k" {
				// Only a correct HMAC passes; check it is one.
				if string(sig) == "" {
					t.Fatalf("%s: empty signature verified", sender)
				}
			}
			ev, err := Parse(sender, h, body)
			if err == nil && ev.Kind == Push && ev.Ref != "" && (len(ev.Ref) > maxRefLength || ev.Ref[:5] != "refs/") {
				t.Fatalf("%s: parsed ref %q is not a full ref", sender, ev.Ref)
			}
		}
	})
}
