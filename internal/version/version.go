// Package version reports which build of Capstan is running.
//
// The Makefile stamps version and commit with -ldflags; under `go run` or
// `go install` they come from the module and VCS information the Go toolchain
// records in the binary.
package version

import (
	"runtime"
	"runtime/debug"
)

// These are set with -ldflags "-X github.com/capstan-gitops/capstan/internal/version.version=…".
// They are the only package-level variables in Capstan, because the linker can
// set nothing else.
var (
	version = ""
	commit  = ""
)

// Dev is the version reported by a build that carries no version information.
const Dev = "v0.0.0-dev"

// Info describes one build of the binary.
type Info struct {
	Version   string `json:"version"`
	Commit    string `json:"commit"`
	GoVersion string `json:"goVersion"`
	Platform  string `json:"platform"`
}

// Get returns the running binary's build information.
func Get() Info {
	bi, _ := debug.ReadBuildInfo()
	return resolve(version, commit, bi)
}

// resolve fills what the linker did not set from the build info.
func resolve(v, c string, bi *debug.BuildInfo) Info {
	info := Info{Version: v, Commit: c, GoVersion: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH}
	if bi != nil {
		if info.Version == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			info.Version = bi.Main.Version
		}
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && info.Commit == "" {
				info.Commit = s.Value
			}
		}
	}
	if info.Version == "" {
		info.Version = Dev
	}
	if info.Commit == "" {
		info.Commit = "unknown"
	}
	return info
}
