#pragma once
// What every loader promises for any input, as checks shared by the
// mutation fuzzer (loaders_fuzz_test.cc) and the libFuzzer targets
// (libfuzzer/): a result that holds together, or INVALID_ARGUMENT with a
// non-empty one-line message; never an exception or a crash.
//
// Each Check* runs one loader over one input and returns "" when the
// outcome is clean, else one line saying what is wrong. The loaders are
// pure, so these are thread-safe.

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace dstrain::fuzz {

// "" for INVALID_ARGUMENT with a non-empty message of one line per error
// (at most 20 errors and a line saying it stopped), no line empty.
std::string CheckError(const Status& status);

// ParseJobYaml; `source_path` is where relative paths start.
std::string CheckJobYaml(std::string_view text, const std::string& source_path);

// ParseJobYaml of a good job with `overrides` (`--set` values).
std::string CheckJobOverrides(std::string_view job_text,
                              const std::string& source_path,
                              const std::vector<std::string>& overrides);

// ParseClusterYaml; a cluster that loads must validate.
std::string CheckClusterYaml(std::string_view text);

// ParseSlurmTopology; a cluster that loads must validate.
std::string CheckSlurmTopology(std::string_view text);

// ExpandHostList; what expands compresses and expands back to the same
// names, and an error points inside the expression.
std::string CheckHostList(std::string_view text);

// ParseManifest; a manifest that parses serializes and parses back equal.
std::string CheckManifest(std::string_view text);

}  // namespace dstrain::fuzz
