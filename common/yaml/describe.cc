#include "common/yaml/describe.h"

#include <yaml-cpp/yaml.h>

#include "common/yaml/text.h"

namespace dstrain::yaml {
namespace {

constexpr size_t kLongest = 60;
constexpr size_t kCut = 57;

// `s` cut to at most `n` bytes, backing off to the start of a UTF-8
// character so the message stays valid text.
std::string CutUtf8(const std::string& s, size_t n) {
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
  return s.substr(0, n);
}

}  // namespace

bool IsQuoted(const YAML::Node& node) {
  return node.Tag() == "!" || node.Tag() == "tag:yaml.org,2002:str";
}

std::string Describe(const YAML::Node& node) {
  if (!node.IsDefined() || node.IsNull()) return "nothing";
  if (node.IsScalar()) {
    std::string s = node.Scalar();
    if (s.size() > kLongest) s = CutUtf8(s, kCut) + "...";
    return IsQuoted(node) ? Quoted("\"" + s + "\"") : Quoted(s);
  }
  if (node.IsSequence()) {
    return "a list of " + std::to_string(node.size()) +
           (node.size() == 1 ? " item" : " items");
  }
  return "a mapping";
}

}  // namespace dstrain::yaml
