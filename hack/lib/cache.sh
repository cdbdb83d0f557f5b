# Sourced by the scripts that build a pinned tool into a cache outside the
# repository (kube-bins.sh, helm-tools.sh, gitea.sh). A directory holds one
# build, stamped with a digest of what it was built from.

# cache_root is the cache of all of them: $CAPSTAN_CACHE, or capstan under
# $XDG_CACHE_HOME or ~/.cache.
cache_root=${CAPSTAN_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/capstan}

# cache_enter DIR STAMP prints DIR and ends the calling script when DIR
# holds a build stamped STAMP. Otherwise it creates DIR and takes its lock,
# held until the script ends: one build at a time, and a second caller
# waits here, then finds the stamp.
cache_enter() {
	local dir=$1 stamp=$2
	if [[ -f "$dir/.stamp" && "$(cat "$dir/.stamp")" == "$stamp" ]]; then
		echo "$dir"
		exit 0
	fi
	mkdir -p "$dir"
	exec 9>"$dir/.lock"
	flock 9
	if [[ -f "$dir/.stamp" && "$(cat "$dir/.stamp")" == "$stamp" ]]; then
		echo "$dir"
		exit 0
	fi
}

# cache_done DIR STAMP stamps the finished build in DIR and prints DIR.
cache_done() {
	echo "$2" >"$1/.stamp"
	echo "$1"
}
