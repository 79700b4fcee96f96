#pragma once
// The libFuzzer entry point of one target: `DSTRAIN_FUZZ_TARGET(Check)`
// runs `Check(text)` (tests/fuzz/loader_checks.h) on every input and
// aborts with the finding when the outcome is not clean, which libFuzzer
// reports as a crash and saves the input.

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "tests/fuzz/loader_checks.h"

#define DSTRAIN_FUZZ_TARGET(check)                                          \
  extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,           \
                                        std::size_t size) {                 \
    const std::string finding =                                             \
        check(std::string_view(reinterpret_cast<const char*>(data), size)); \
    if (!finding.empty()) {                                                 \
      std::fprintf(stderr, "loader check failed: %s\n", finding.c_str());   \
      std::abort();                                                         \
    }                                                                       \
    return 0;                                                               \
  }
