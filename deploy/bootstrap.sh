#!/usr/bin/env bash
# Installs everything dstrain needs to build, test and run, from Debian's
# packages and PyPI only. Idempotent: prints nothing and changes nothing when
# all is already there, so `make run` and `make test` can call it every time.
#
# The Python environment (PyTorch: its wheel carries libtorch and its CMake
# config) lives outside the repository, in $DSTRAIN_VENV (default
# ~/.cache/dstrain/venv), so fresh clones reuse it instead of downloading
# several GiB again.
set -euo pipefail

TORCH_VERSION="${DSTRAIN_TORCH_VERSION:-2.11.0}"
TENSORBOARD_VERSION="2.21.0"
SELENIUM_VERSION="4.51.0"
H5PY_VERSION="3.16.0"
VENV="${DSTRAIN_VENV:-$HOME/.cache/dstrain/venv}"

DEBIAN_PACKAGES=(
  build-essential cmake ninja-build pkg-config ccache git
  libgrpc++-dev libssl-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  libyaml-cpp-dev libcli11-dev libspdlog-dev libfmt-dev libsqlite3-dev
  libgtest-dev libgmock-dev googletest libbenchmark-dev
  libopenmpi-dev openmpi-bin libhdf5-dev libgloo-dev
  fortunes python3-venv procps
  clang-14 libfuzzer-14-dev
  graphviz  # `dstrain topo ... --dot | dot -Tsvg`, and the test that draws it
  libcpp-httplib-dev  # the coordinator's HTTP port (/metrics)
  prometheus  # the test that scrapes /metrics with a real Prometheus
  chromium chromium-driver  # the web page's test in a headless browser
  # Slurm for deploy/slurm and its test (tests/slurm/local_slurm.sh); the
  # accounting sacct reads needs slurmdbd on MariaDB.
  slurm-wlm munge slurmdbd mariadb-server
)

log() { printf 'bootstrap: %s\n' "$*" >&2; }

missing_packages() {
  local pkg
  for pkg in "${DEBIAN_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' \
      || printf '%s\n' "$pkg"
  done
}

install_debian_packages() {
  local missing
  missing=$(missing_packages)
  [ -z "$missing" ] && return 0
  log "installing Debian packages: $(echo $missing)"
  local sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq
  # shellcheck disable=SC2086
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends $missing >/dev/null
}

torch_installed() {
  [ -x "$VENV/bin/python" ] &&
    "$VENV/bin/python" - "$TORCH_VERSION" <<'PY' 2>/dev/null
import sys, importlib.metadata as md
sys.exit(0 if md.version("torch").split("+")[0] == sys.argv[1] else 1)
PY
}

install_python_packages() {
  torch_installed && return 0
  log "installing PyTorch $TORCH_VERSION into $VENV (several GiB, once)"
  [ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check \
    "torch==$TORCH_VERSION" numpy
}

# TensorBoard's own event reader checks the files `launch --tensorboard`
# writes (tests/tensorboard_launch_test.cc); training does not need it.
install_tensorboard() {
  "$VENV/bin/python" -c "import tensorboard" 2>/dev/null && return 0
  log "installing tensorboard $TENSORBOARD_VERSION into $VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check \
    "tensorboard==$TENSORBOARD_VERSION"
}

# Selenium drives headless Chromium through the web page's test
# (tests/web/job_page_test.py); nothing else uses it.
install_selenium() {
  "$VENV/bin/python" -c "import selenium" 2>/dev/null && return 0
  log "installing selenium $SELENIUM_VERSION into $VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check \
    "selenium==$SELENIUM_VERSION"
}

# h5py writes HDF5 files as users write them (worker/data's test reads one)
# and is the PyTorch DataLoader peer of bench/data.
install_h5py() {
  "$VENV/bin/python" -c "import h5py" 2>/dev/null && return 0
  log "installing h5py $H5PY_VERSION into $VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check \
    "h5py==$H5PY_VERSION"
}

install_debian_packages
install_python_packages
install_tensorboard
install_selenium
install_h5py
