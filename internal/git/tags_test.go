package git

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/capstan-gitops/capstan/internal/testenv"
)

func TestListTags(t *testing.T) {
	t.Parallel()
	srv := testenv.NewGitServer(t)
	c1, c2, _ := seedRepo(t, srv, "app")
	srv.Tag(t, "app", "v3-rc", c1, "annotated, on the first commit")
	want := []Tag{{Name: "v1", Commit: c1}, {Name: "v2", Commit: c2}, {Name: "v3-rc", Commit: c1}}
	for _, tr := range testTransports() {
		t.Run(tr.name, func(t *testing.T) {
			t.Parallel()
			got, err := ListTags(t.Context(), testEndpoint(t, tr.url(srv, "app")), tr.auth(srv))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("tags (-want +got):\n%s", diff)
			}
		})
	}
	srv.InitRepo(t, "empty")
	srv.Commit(t, "empty", "main", map[string]string{"a": "b"}, "no tags")
	got, err := ListTags(t.Context(), testEndpoint(t, srv.HTTPURL("empty")), Auth{Username: srv.Username(), Password: srv.Password()})
	if err != nil || len(got) != 0 {
		t.Errorf("ListTags of a repository without tags = %v, %v; want none", got, err)
	}
}
