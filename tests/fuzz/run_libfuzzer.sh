#!/usr/bin/env bash
# Builds the loaders' libFuzzer targets (tests/fuzz/libfuzzer: clang-14,
# AddressSanitizer, UndefinedBehaviorSanitizer) and runs each for a while,
# seeded from the loaders' good and bad corpora.
#
#   tests/fuzz/run_libfuzzer.sh [seconds-per-target] [build-folder]
#
# Defaults: 60 seconds, build-fuzz/ (relative to the current folder).
# Exits 0 when no target found anything, 1 on any crash, leak, hang
# (an input over 2 s), memory blow-up (over 2 GiB) or UBSan report, and 77
# (CTest's skip code here) when clang-14 or libFuzzer is missing. Each
# target's log and its new corpus stay in the build folder; an input that
# failed is saved as <build>/artifacts/<target>-crash-<sha1> (reproduce:
# <build>/<target>_fuzz <that file>).
# DSTRAIN_FUZZ_JOBS sets the build's parallelism (default 2).
set -uo pipefail

seconds="${1:-60}"
build="${2:-build-fuzz}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cxx="${DSTRAIN_FUZZ_CXX:-clang++-14}"

skip() {
  echo "run_libfuzzer.sh: skipped: $* (apt-get install clang-14 libfuzzer-14-dev)"
  exit 77
}

command -v "$cxx" >/dev/null 2>&1 || skip "$cxx not found"
mkdir -p "$build" || exit 1
build="$(cd "$build" && pwd)"
# libFuzzer and the sanitizer runtimes come in other packages than the
# compiler; try them on an empty target.
probe="$build/probe"
mkdir -p "$probe"
printf 'extern "C" int LLVMFuzzerTestOneInput(const char*, unsigned long) { return 0; }\n' \
  >"$probe/probe.cc"
"$cxx" -fsanitize=fuzzer,address,undefined "$probe/probe.cc" -o "$probe/probe" \
  >"$probe/log" 2>&1 || skip "$cxx cannot link -fsanitize=fuzzer,address,undefined: $(head -c 300 "$probe/log")"

targets=(job_yaml job_overrides cluster_yaml slurm_topology hostlist manifest)
seeds_job_yaml=(common/config/testdata/good common/config/testdata/bad configs/examples)
seeds_job_overrides=(tests/fuzz/corpus/overrides)
seeds_cluster_yaml=(configs/clusters topology/io/testdata/yaml/good topology/io/testdata/yaml/bad)
seeds_slurm_topology=(configs/clusters topology/io/testdata/slurm/bad)
seeds_hostlist=(tests/fuzz/corpus/hostlist)
seeds_manifest=(tests/fuzz/corpus/manifest)

launcher=()
command -v ccache >/dev/null 2>&1 && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
echo "run_libfuzzer.sh: building in $build"
start=$(date +%s)
cmake -S "$root/tests/fuzz/libfuzzer" -B "$build" -G Ninja \
  -DCMAKE_CXX_COMPILER="$cxx" "${launcher[@]}" >"$build/configure.log" 2>&1 ||
  { cat "$build/configure.log"; exit 1; }
cmake --build "$build" -j "${DSTRAIN_FUZZ_JOBS:-2}" >"$build/build.log" 2>&1 ||
  { tail -50 "$build/build.log"; exit 1; }
echo "run_libfuzzer.sh: built in $(($(date +%s) - start)) s; ${seconds} s per target"

status=0
mkdir -p "$build/artifacts" "$build/logs"
for t in "${targets[@]}"; do
  seeds_var="seeds_${t}[@]"
  seed_dirs=()
  for d in "${!seeds_var}"; do seed_dirs+=("$root/$d"); done
  mkdir -p "$build/corpus/$t"
  log="$build/logs/$t.log"
  # New inputs go to the first folder (the build's); the seeds stay
  # untouched. libFuzzer's own error codes are made distinct from 77.
  "$build/${t}_fuzz" -max_total_time="$seconds" -timeout=2 -rss_limit_mb=2048 \
    -max_len=65536 -error_exitcode=1 -timeout_exitcode=1 -print_final_stats=1 \
    -artifact_prefix="$build/artifacts/$t-" \
    "$build/corpus/$t" "${seed_dirs[@]}" >"$log" 2>&1
  rc=$?
  runs=$(grep -a -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$')
  if [ "$rc" -ne 0 ] || grep -a -q -E 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error:' "$log"; then
    status=1
    echo "run_libfuzzer.sh: $t FAILED (exit $rc); the end of $log:"
    tail -40 "$log" | cut -c1-500
  else
    echo "run_libfuzzer.sh: $t ok (${runs:-?} inputs)"
  fi
done
exit $status
