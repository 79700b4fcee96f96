#!/usr/bin/env bash
# Run on the build machine (Debian, with its archive reachable): puts into
# .gpu-deps/ what deploy/gpu/check.sh needs on a GPU machine that has
# PyTorch, CMake, ninja and nvcc but no package registry:
#   src/      Debian's source packages of yaml-cpp, fmt, spdlog and
#             googletest (check.sh builds them there, static);
#   include/  the Gloo headers of Debian's libgloo-dev (libtorch carries
#             Gloo's code, not its headers).
# .gpu-deps/ is ignored by git; carry it with the working tree. About 2 MB.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
out=${DSTRAIN_GPU_DEPS:-$root/.gpu-deps}
mkdir -p "$out/src" "$out/include"

# Source packages without touching the system's apt configuration: a
# private deb-src list and package lists.
apt_dir=$(mktemp -d)
trap 'rm -rf "$apt_dir"' EXIT
mkdir -p "$apt_dir/lists/partial"
. /etc/os-release
cat > "$apt_dir/src.sources" <<SOURCES
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: ${VERSION_CODENAME}
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SOURCES
apt_opts=(-q -o "Dir::Etc::SourceList=$apt_dir/src.sources"
          -o Dir::Etc::SourceParts=/nonexistent
          -o "Dir::State::Lists=$apt_dir/lists")
apt-get "${apt_opts[@]}" update >/dev/null
(cd "$out/src" &&
 apt-get "${apt_opts[@]}" source --download-only \
   yaml-cpp fmtlib spdlog googletest 2>&1 | grep -v "unsandboxed" || true)
ls "$out"/src/*.orig.tar.* >/dev/null

if [ ! -f /usr/include/gloo/context.h ]; then
  echo "fetch_deps: /usr/include/gloo is missing; run deploy/bootstrap.sh" >&2
  exit 1
fi
rm -rf "$out/include/gloo"
cp -r /usr/include/gloo "$out/include/"
echo "fetch_deps: $(du -sh "$out" | cut -f1) in $out"
