#include "common/yaml/scalars.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <cmath>

#include "common/yaml/describe.h"

namespace dstrain::yaml {
namespace {

// from_chars over all of `s`. A leading `+` is YAML's too, but from_chars
// refuses it, so it goes first (once: `+-5` and `++5` stay errors).
template <typename T>
std::optional<T> ParseWhole(std::string_view s) {
  if (!s.empty() && s[0] == '+') {
    s.remove_prefix(1);
    if (!s.empty() && (s[0] == '+' || s[0] == '-')) return std::nullopt;
  }
  if (s.empty()) return std::nullopt;
  T v{};
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

bool IsPlainScalar(const YAML::Node& node) {
  return node.IsScalar() && !IsQuoted(node);
}

}  // namespace

Status Invalid(const Subject& subject, std::string_view rest) {
  return InvalidArgument(Located(subject.place, "`" + subject.path + "`",
                                 ": " + std::string(rest)));
}

Status Expected(const Subject& subject, std::string_view what,
                const YAML::Node& got) {
  return Invalid(subject,
                 "expected " + std::string(what) + ", got " + Describe(got));
}

Status ExpectedOneOf(const Subject& subject, std::string_view what,
                     std::string_view got, std::string_view word,
                     const std::vector<Candidate>& pool) {
  std::string rest =
      "expected " + std::string(what) + ", got " + std::string(got);
  if (std::optional<std::string> near = ClosestMatch(word, pool)) {
    rest += "; did you mean `" + *near + "`?";
  }
  return Invalid(subject, rest);
}

std::optional<std::int64_t> ParseInt64(std::string_view s) {
  return ParseWhole<std::int64_t>(s);
}

std::optional<std::uint64_t> ParseUint64(std::string_view s) {
  return ParseWhole<std::uint64_t>(s);
}

std::optional<double> ParseFiniteDouble(std::string_view s) {
  std::optional<double> v = ParseWhole<double>(s);
  if (!v || !std::isfinite(*v)) return std::nullopt;
  return v;
}

std::optional<bool> ParseBool(std::string_view s) {
  const std::string n = NormalizeSpelling(s);
  if (n == "true" || n == "yes" || n == "on") return true;
  if (n == "false" || n == "no" || n == "off") return false;
  return std::nullopt;
}

StatusOr<std::int64_t> ReadInt(const YAML::Node& node, const Subject& subject,
                               std::string_view what) {
  if (IsPlainScalar(node)) {
    if (std::optional<std::int64_t> v = ParseInt64(node.Scalar())) return *v;
  }
  return Expected(subject, what, node);
}

StatusOr<std::uint64_t> ReadUint64(const YAML::Node& node,
                                   const Subject& subject,
                                   std::string_view what) {
  if (IsPlainScalar(node)) {
    if (std::optional<std::uint64_t> v = ParseUint64(node.Scalar())) {
      return *v;
    }
  }
  return Expected(subject, what, node);
}

StatusOr<double> ReadDouble(const YAML::Node& node, const Subject& subject,
                            std::string_view what) {
  if (IsPlainScalar(node)) {
    if (std::optional<double> v = ParseFiniteDouble(node.Scalar())) return *v;
  }
  return Expected(subject, what, node);
}

StatusOr<bool> ReadBool(const YAML::Node& node, const Subject& subject,
                        std::string_view what) {
  if (IsPlainScalar(node)) {
    if (std::optional<bool> v = ParseBool(node.Scalar())) return *v;
  }
  return Expected(subject, what, node);
}

StatusOr<std::string> ReadString(const YAML::Node& node, const Subject& subject,
                                 std::string_view what, Empty empty) {
  if (!node.IsScalar() || (empty == Empty::kRefused && node.Scalar().empty())) {
    return Expected(subject, what, node);
  }
  return node.Scalar();
}

StatusOr<std::size_t> ReadChoice(const YAML::Node& node, const Subject& subject,
                                 const std::vector<std::string>& choices,
                                 std::string_view what) {
  if (!node.IsScalar()) return Expected(subject, what, node);
  const std::string& s = node.Scalar();
  auto it = std::find(choices.begin(), choices.end(), s);
  if (it != choices.end())
    return static_cast<std::size_t>(it - choices.begin());
  std::vector<Candidate> pool;
  for (const std::string& c : choices) pool.push_back({c, c, 0});
  return ExpectedOneOf(subject, what, Describe(node), s, pool);
}

}  // namespace dstrain::yaml
