package git

import (
	"context"
	"errors"

	"github.com/go-git/go-git/v5/plumbing/transport"
	"github.com/go-git/go-git/v5/plumbing/transport/client"
)

// CheckPush proves that auth may push to the repository at ep without
// pushing anything: it opens a receive-pack session, which servers only
// grant to writers, and reads the advertised references. An empty
// repository passes.
func CheckPush(ctx context.Context, ep Endpoint, auth Auth) error {
	return wrapErr("checking push access to", ep, auth, checkPush(ctx, ep, auth))
}

func checkPush(ctx context.Context, ep Endpoint, auth Auth) error {
	method, err := auth.method(ctx, ep)
	if err != nil {
		return err
	}
	tep, err := transport.NewEndpoint(ep.url)
	if err != nil {
		return err
	}
	cl, err := client.NewClient(tep)
	if err != nil {
		return err
	}
	sess, err := cl.NewReceivePackSession(tep, method)
	if err != nil {
		return err
	}
	defer sess.Close()
	if _, err := sess.AdvertisedReferencesContext(ctx); err != nil && !errors.Is(err, transport.ErrEmptyRemoteRepository) {
		return err
	}
	return nil
}
