#!/usr/bin/env bash
# The GPU check, as one script for a machine with an NVIDIA H100/H200:
# x86-64, python3 with PyTorch (CUDA), CMake, ninja and nvcc, no package
# registry. From the repository root, with .gpu-deps/ carried along
# (deploy/gpu/fetch_deps.sh makes it on the build machine):
#
#   deploy/gpu/check.sh            # on the GPU machine, under 8 minutes
#   REHEARSE=1 deploy/gpu/check.sh # on a CPU machine: the same build, the
#                                  # gpu tests (they skip), the measurement
#                                  # on a tiny model on the CPU
#
# 1. builds yaml-cpp, fmt, spdlog and googletest from Debian's sources in
#    .gpu-deps (static, once);
# 2. configures the engine-only build (-DDSTRAIN_ENGINE_ONLY=ON) against
#    the PyTorch of python3, NCCL from that PyTorch's environment (the
#    nvidia-nccl wheel) or else the CUDA toolkit, Hopper (sm_90);
# 3. builds, with every core, the worker and the gpu-labelled tests only;
# 4. runs `ctest -L gpu`: NCCL (world of one, Split), ZeRO-3 with fp16 and
#    the loss scaler (an injected overflow skipping the step everywhere)
#    and bf16, recompute, checkpoint save and resume on the device, the
#    side-stream batch copy;
# 5. measures GPT-2 small (bench/gpu/gpt2_small.py): dstrain's worker
#    against PyTorch eager and torch.compile, tokens/s, MFU, peak memory
#    with and without activation checkpointing.
# Prints each stage's time and ends with the tests' summary and the table;
# everything also lands in $OUT (default build-gpu/gpu-check).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
py=$(command -v "${PYTHON:-python3}")
deps=${DSTRAIN_GPU_DEPS:-$root/.gpu-deps}
build=${BUILD:-$root/build-gpu}
jobs=${JOBS:-$(nproc)}
rehearse=${REHEARSE:-0}
out=${OUT:-$build/gpu-check}
mkdir -p "$out"
t0=$(date +%s)
stage() { echo "== $(($(date +%s) - t0)) s: $*"; }

if [ ! -d "$deps/src" ]; then
  echo "check.sh: no $deps/src; run deploy/gpu/fetch_deps.sh on the build machine and carry .gpu-deps" >&2
  exit 2
fi

stage "dependencies from Debian's sources"
prefix=$deps/install
work=$deps/work
mkdir -p "$work" "$prefix"
build_dep() {  # name tarball-glob cmake-args...
  local name=$1 glob=$2
  shift 2
  [ -f "$prefix/.built-$name" ] && return 0
  rm -rf "${work:?}/$name"
  mkdir -p "$work/$name"
  tar -xf $deps/src/$glob -C "$work/$name" --strip-components=1
  cmake -S "$work/$name" -B "$work/$name/build" -G Ninja \
    -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX="$prefix" \
    -DCMAKE_POSITION_INDEPENDENT_CODE=ON -DBUILD_SHARED_LIBS=OFF "$@" \
    >"$out/dep-$name.log" 2>&1
  cmake --build "$work/$name/build" -j "$jobs" >>"$out/dep-$name.log" 2>&1
  cmake --install "$work/$name/build" >>"$out/dep-$name.log" 2>&1
  touch "$prefix/.built-$name"
}
build_dep fmt 'fmtlib_*.orig.tar.*' -DFMT_TEST=OFF -DFMT_DOC=OFF
build_dep spdlog 'spdlog_*.orig.tar.*' -DSPDLOG_FMT_EXTERNAL=ON \
  -DSPDLOG_BUILD_EXAMPLE=OFF -DSPDLOG_BUILD_TESTS=OFF \
  -DCMAKE_PREFIX_PATH="$prefix"
build_dep yaml-cpp 'yaml-cpp_*.orig.tar.*' -DYAML_CPP_BUILD_TESTS=OFF \
  -DYAML_CPP_BUILD_TOOLS=OFF -DYAML_BUILD_SHARED_LIBS=OFF
build_dep googletest 'googletest_*.orig.tar.*' -DBUILD_GMOCK=ON \
  -DINSTALL_GTEST=ON

stage "configure (engine only, PyTorch of $py)"
nccl_args=()
nccl_dir=$("$py" -c 'import nvidia.nccl; print(list(nvidia.nccl.__path__)[0])' 2>/dev/null || true)
if [ -n "$nccl_dir" ] && [ -f "$nccl_dir/include/nccl.h" ]; then
  nccl_lib=$(ls "$nccl_dir"/lib/libnccl.so* | head -n1)
  nccl_args=(-DNCCL_INCLUDE_DIR="$nccl_dir/include" -DNCCL_LIBRARY="$nccl_lib")
  echo "NCCL from PyTorch's environment: $nccl_lib"
fi
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DDSTRAIN_ENGINE_ONLY=ON -DDSTRAIN_BUILD_BENCH=OFF \
  -DDSTRAIN_PYTHON="$py" -DCMAKE_PREFIX_PATH="$prefix" \
  -DGLOO_INCLUDE_DIR="$deps/include" -DTORCH_CUDA_ARCH_LIST=9.0 \
  "${nccl_args[@]}" >"$out/configure.log" 2>&1 ||
  { tail -40 "$out/configure.log"; exit 1; }
grep -E "^-- dstrain:" "$out/configure.log" || true

stage "build: the worker and the gpu tests, $jobs jobs"
mapfile -t gpu_targets < <(grep -v '^$' "$build/gpu_test_targets.txt")
cmake --build "$build" -j "$jobs" --target dstrain-worker "${gpu_targets[@]}" \
  >"$out/build.log" 2>&1 || { grep -E "error|FAILED" "$out/build.log" | head -40; exit 1; }

stage "tests: ctest -L gpu"
set +e
ctest --test-dir "$build" -L gpu --output-on-failure --timeout 300 \
  >"$out/tests.log" 2>&1
tests_rc=$?
set -e
grep -E "tests passed|Skipped|\(Failed|Not Run|\*\*\*Failed" "$out/tests.log" | tail -30

stage "measurement: GPT-2 small, dstrain vs PyTorch eager and torch.compile"
measure_args=(--worker "$build/bin/dstrain-worker" --json "$out/measure.json")
[ "$rehearse" = 1 ] && measure_args+=(--device cpu --tiny)
"$py" bench/gpu/gpt2_small.py "${measure_args[@]}" | tee "$out/measure.txt"

stage "done (tests exit $tests_rc)"
echo "$(date -u +%Y-%m-%dT%H:%MZ) $("$py" -c 'import torch; print(torch.cuda.get_device_name() if torch.cuda.is_available() else "no GPU")'), torch $("$py" -c 'import torch; print(torch.__version__)')"
exit $tests_rc
