// ParseJobYaml on arbitrary text, as a file in common/config/testdata/good/
// so that the corpus's relative paths resolve.
#include "tests/fuzz/libfuzzer/fuzz_main.h"

namespace {

std::string CheckJob(std::string_view text) {
  static const std::string kSource = std::string(DSTRAIN_SOURCE_DIR) +
                                     "/common/config/testdata/good/fuzz.yaml";
  return dstrain::fuzz::CheckJobYaml(text, kSource);
}

}  // namespace

DSTRAIN_FUZZ_TARGET(CheckJob)
