#pragma once
// Typed readers of YAML scalars for strict loaders.
//
// Rules: numbers and booleans must be written plain (a quoted scalar is a
// string even when it reads `5` or `true`); integers are decimal with an
// optional sign and must fit 64 bits; numbers must be finite (no `1e400`,
// `nan`, `.inf`); booleans are true/false, yes/no, on/off in any case.
//
// Each reader names the value by a Subject (its dotted path and where it
// came from) and fails with INVALID_ARGUMENT on one line:
//   `train.steps` at job.yaml:5:10: expected an integer, got `abc`
//   --set `train.steps=abc`: `train.steps`: expected an integer, got `abc`
// `what` is the expectation as the loader words it ("an integer", "one of
// cpu | cuda"). Ranges are the caller's (they belong to its schema, and
// are worded by it).
//
// Pure functions; thread-safe for nodes no thread changes.

#include <yaml-cpp/node/node.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "common/yaml/place.h"
#include "common/yaml/suggest.h"

namespace dstrain::yaml {

// Names a value in messages.
struct Subject {
  std::string path;  // "train.steps", "hosts[0].devices"
  Place place;
};

// "`path` at PLACE: REST" (see Located in place.h for the other places).
Status Invalid(const Subject& subject, std::string_view rest);

// Invalid(subject, "expected WHAT, got <Describe(got)>").
Status Expected(const Subject& subject, std::string_view what,
                const YAML::Node& got);

// Invalid(subject, "expected WHAT, got GOT; did you mean `x`?"), where x
// is the ClosestMatch of `word` in `pool`, left out when none is close.
Status ExpectedOneOf(const Subject& subject, std::string_view what,
                     std::string_view got, std::string_view word,
                     const std::vector<Candidate>& pool);

// The plain-text parsers under the readers: the whole of `s` or nothing.
std::optional<std::int64_t> ParseInt64(std::string_view s);
std::optional<std::uint64_t> ParseUint64(std::string_view s);
std::optional<double> ParseFiniteDouble(std::string_view s);
std::optional<bool> ParseBool(std::string_view s);

StatusOr<std::int64_t> ReadInt(const YAML::Node& node, const Subject& subject,
                               std::string_view what = "an integer");
StatusOr<std::uint64_t> ReadUint64(
    const YAML::Node& node, const Subject& subject,
    std::string_view what = "a non-negative integer");
StatusOr<double> ReadDouble(const YAML::Node& node, const Subject& subject,
                            std::string_view what = "a number");
StatusOr<bool> ReadBool(const YAML::Node& node, const Subject& subject,
                        std::string_view what = "true or false");

enum class Empty { kAllowed, kRefused };
// Any scalar, quoted or not.
StatusOr<std::string> ReadString(const YAML::Node& node, const Subject& subject,
                                 std::string_view what = "a string",
                                 Empty empty = Empty::kAllowed);

// The index of the scalar among `choices` (exact spelling, quoted or
// not); otherwise "expected WHAT, got `x`; did you mean `y`?" with the
// nearest choice.
StatusOr<std::size_t> ReadChoice(const YAML::Node& node, const Subject& subject,
                                 const std::vector<std::string>& choices,
                                 std::string_view what);

}  // namespace dstrain::yaml
