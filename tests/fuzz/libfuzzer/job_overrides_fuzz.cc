// `--set` overrides on a good job file: each line of the input is one
// override (at most eight).
#include <fstream>
#include <sstream>
#include <vector>

#include "tests/fuzz/libfuzzer/fuzz_main.h"

namespace {

std::string CheckOverrides(std::string_view text) {
  static const std::string kSource = std::string(DSTRAIN_SOURCE_DIR) +
                                     "/common/config/testdata/good/full.yaml";
  static const std::string kJob = [] {
    std::ifstream in(kSource, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
  }();
  std::vector<std::string> overrides;
  std::size_t start = 0;
  while (start <= text.size() && overrides.size() < 8) {
    const std::size_t nl = text.find('\n', start);
    const std::size_t end = nl == std::string_view::npos ? text.size() : nl;
    overrides.emplace_back(text.substr(start, end - start));
    if (nl == std::string_view::npos) break;
    start = nl + 1;
  }
  return dstrain::fuzz::CheckJobOverrides(kJob, kSource, overrides);
}

}  // namespace

DSTRAIN_FUZZ_TARGET(CheckOverrides)
