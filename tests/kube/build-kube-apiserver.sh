#!/usr/bin/env bash
# Builds kube-apiserver and kube-controller-manager from Debian's 'kubernetes' source package
# (1.20.2, with vendor/) for the Kubernetes tests, once per machine. No registry ships these
# binaries here; the source package builds offline with Debian's golang-go.
#
#   tests/kube/build-kube-apiserver.sh            # builds into the cache when missing, prints the folder
#
# Cache: $OPSTOOLS_KUBE_CACHE, else /var/cache/opstools/kube (root) or ~/.cache/opstools/kube.
# Needs: golang-go make rsync golang-github-modern-go-reflect2-dev (installed by .ci/run), and the Debian source index, which
# this script reads through a private apt configuration derived from the machine's own sources
# (the system's apt configuration is left as it is).
set -euo pipefail

version=1.20.2
# The cache key names what the build changes in the source: the vendored github.com/modern-go/reflect2 1.0.1
# faults under Go >= 1.18 (the API server dies on the first custom resource it decodes), so the build swaps in
# Debian's reflect2 1.0.2 (golang-github-modern-go-reflect2-dev). A new key rebuilds once; older folders stay unused.
key=$version-reflect2-1.0.2
reflect2_src=/usr/share/gocode/src/github.com/modern-go/reflect2
if [[ -n "${OPSTOOLS_KUBE_CACHE:-}" ]]; then cache=$OPSTOOLS_KUBE_CACHE
elif [[ $(id -u) == 0 ]]; then cache=/var/cache/opstools/kube
else cache=${XDG_CACHE_HOME:-$HOME/.cache}/opstools/kube
fi
bin=$cache/$key/bin
if [[ -x $bin/kube-apiserver && -x $bin/kube-controller-manager ]]; then
  echo "$bin"; exit 0
fi

[[ -f $reflect2_src/go_above_118.go ]] || { echo "build-kube-apiserver: $reflect2_src (1.0.2) missing: apt-get install golang-github-modern-go-reflect2-dev" >&2; exit 1; }

work=$(mktemp -d "${TMPDIR:-/tmp}/opstools-kube-build.XXXXXX")
trap 'rm -rf "$work"' EXIT
log() { echo "build-kube-apiserver: $*" >&2; }

# A private apt configuration whose only sources are the machine's Debian sources as deb-src.
mkdir -p "$work/apt/lists/partial" "$work/apt/parts"
src_list=$work/apt/sources.sources
found=0
for f in /etc/apt/sources.list.d/*.sources; do
  [[ -f $f ]] || continue
  grep -qi '^URIs:.*debian' "$f" || continue
  sed -E 's/^Types:.*/Types: deb-src/' "$f" >> "$src_list"; echo >> "$src_list"; found=1
done
if [[ $found == 0 && -f /etc/apt/sources.list ]]; then
  src_list=$work/apt/sources.list
  grep -E '^deb ' /etc/apt/sources.list | sed 's/^deb /deb-src /' > "$src_list" && found=1
fi
[[ $found == 1 ]] || { log "no Debian apt source found to derive a deb-src entry from"; exit 1; }
apt_opts=(-o "Dir::Etc::SourceList=$src_list" -o "Dir::Etc::SourceParts=$work/apt/parts" -o "Dir::State::Lists=$work/apt/lists")

log "fetching the kubernetes source package"
apt-get -q "${apt_opts[@]}" update >&2
( cd "$work" && apt-get -q "${apt_opts[@]}" source --download-only kubernetes >&2 )
orig=$(ls "$work"/kubernetes_*.orig.tar.gz | head -n1)

export GOPATH=$work/go GO111MODULE=off GOPROXY=off GOFLAGS= CGO_ENABLED=0 GOCACHE=$work/gocache HOME=${HOME:-$work}
mkdir -p "$GOPATH/src/k8s.io"
tar xzf "$orig" -C "$work"
mv "$work"/kubernetes-*/ "$GOPATH/src/k8s.io/kubernetes"
cd "$GOPATH/src/k8s.io/kubernetes"

log "replacing the vendored reflect2 1.0.1 with Debian's 1.0.2 (works under Go >= 1.18)"
rm -rf vendor/github.com/modern-go/reflect2
mkdir -p vendor/github.com/modern-go/reflect2
cp "$reflect2_src"/*.go "$reflect2_src"/*.s vendor/github.com/modern-go/reflect2/
sed -i 's|^# github.com/modern-go/reflect2 v1.0.1$|# github.com/modern-go/reflect2 v1.0.2|' vendor/modules.txt

log "generating pkg/generated/openapi (not shipped in the source package)"
make gen_openapi >"$work/gen.log" 2>&1 || { tail -n 40 "$work/gen.log" >&2; exit 1; }

log "building kube-apiserver and kube-controller-manager (about 2-3 minutes on 2 cores)"
mkdir -p "$work/out"
for cmd in kube-apiserver kube-controller-manager; do
  go build -tags providerless -ldflags "-s -w" -o "$work/out/$cmd" "./cmd/$cmd"
done

mkdir -p "$cache/$key"
rm -rf "$bin.tmp" && mv "$work/out" "$bin.tmp" && rm -rf "$bin" && mv "$bin.tmp" "$bin"
echo "$bin"
