package k3d

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/docker/cli/cli/command"
	cliflags "github.com/docker/cli/cli/flags"
	"github.com/docker/docker/client"
	"github.com/sirupsen/logrus"
	"github.com/spf13/pflag"

	"github.com/capstan-gitops/capstan/clusters"
)

// DockerTimeout bounds the check that the Docker engine answers.
const DockerTimeout = 5 * time.Second

// defaultDockerHost is where Docker listens when nothing else is configured.
const defaultDockerHost = "unix:///var/run/docker.sock"

// ErrDockerUnavailable means the Docker engine k3d needs did not answer.
var ErrDockerUnavailable = errors.New("docker is not reachable")

// checkDocker checks that the Docker engine answers and returns its endpoint.
func checkDocker(ctx context.Context) (string, error) {
	cli, endpoint, err := connectDocker(ctx)
	if err != nil {
		return endpoint, err
	}
	_ = cli.Close()
	return endpoint, nil
}

// connectDocker asks the Docker engine for its info, resolving the endpoint
// exactly as k3d does (DOCKER_HOST, DOCKER_CONTEXT, the docker CLI's current
// context, the default socket). It returns a client of the engine, which
// the caller closes, and the endpoint.
//
// k3d builds its client through the docker CLI, whose Client() calls
// os.Exit when the endpoint cannot be set up; this check finds such
// problems first and returns them as errors instead.
func connectDocker(ctx context.Context) (client.APIClient, string, error) {
	var stderr bytes.Buffer
	dcli, err := command.NewDockerCli(command.WithOutputStream(io.Discard), command.WithErrorStream(&stderr))
	if err != nil {
		return nil, "", dockerError(configuredEndpoint(), err)
	}
	opts := cliflags.NewClientOptions()
	opts.LogLevel = logrus.GetLevel().String() // Initialize sets logrus' global level
	fs := pflag.NewFlagSet("docker", pflag.ContinueOnError)
	opts.InstallFlags(fs)
	opts.SetDefaultOptions(fs)
	if err := dcli.Initialize(opts); err != nil {
		return nil, "", dockerError(configuredEndpoint(), err)
	}
	endpoint := dcli.DockerEndpoint().Host // prints, but does not exit, on failure
	if stderr.Len() > 0 || endpoint == "" {
		return nil, "", dockerError(configuredEndpoint(), errors.New(strings.TrimSpace(stderr.String())))
	}
	cli := dcli.Client()
	infoCtx, cancel := context.WithTimeout(ctx, DockerTimeout)
	defer cancel()
	if _, err := cli.Info(infoCtx); err != nil {
		_ = cli.Close()
		if infoCtx.Err() != nil && ctx.Err() == nil {
			err = fmt.Errorf("no answer within %s", DockerTimeout)
		}
		return nil, endpoint, dockerError(endpoint, err)
	}
	return cli, endpoint, nil
}

// configuredEndpoint describes where Docker is expected when the endpoint
// could not be resolved.
func configuredEndpoint() string {
	if h := os.Getenv(client.EnvOverrideHost); h != "" {
		return h
	}
	if c := os.Getenv(command.EnvOverrideContext); c != "" {
		return "docker context " + c
	}
	return defaultDockerHost
}

// dockerError is the one error a person sees when Docker is missing.
func dockerError(endpoint string, err error) error {
	return &clusters.Error{
		Summary: fmt.Sprintf("%s at %s (%s)", ErrDockerUnavailable, endpoint, dockerReason(err)),
		Next:    "start Docker, or use --kubeconfig with an existing cluster",
		Err:     fmt.Errorf("%w at %s: %w", ErrDockerUnavailable, endpoint, err),
	}
}

// dockerReason shortens the engine client's errors, which repeat the endpoint.
func dockerReason(err error) string {
	msg := err.Error()
	switch {
	case client.IsErrConnectionFailed(err) || strings.Contains(msg, "Cannot connect to the Docker daemon"):
		return "is the Docker daemon running?"
	case strings.Contains(msg, "permission denied"):
		return "permission denied: is your user in the docker group?"
	default:
		return msg
	}
}
