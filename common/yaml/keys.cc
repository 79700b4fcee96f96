#include "common/yaml/keys.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>

#include "common/yaml/describe.h"
#include "common/yaml/text.h"

namespace dstrain::yaml {

YAML::Mark ValueMark(const YAML::Node& key, const YAML::Node& value) {
  if (!value.IsDefined() || value.IsNull() || value.Mark().is_null()) {
    return key.Mark();
  }
  return value.Mark();
}

Entry Lookup(const YAML::Node& map, std::string_view key) {
  if (!map.IsMap()) return Entry{};
  for (auto it = map.begin(); it != map.end(); ++it) {
    if (it->first.IsScalar() && it->first.Scalar() == key) {
      return Entry{it->first, it->second, true};
    }
  }
  return Entry{};
}

Status CheckKeyIsName(const YAML::Node& key, const Place& place) {
  if (key.IsScalar()) return Status::Ok();
  return InvalidArgument(
      Located(place, "key", ": expected a name, got " + Describe(key)));
}

Status UnknownKey(const Place& place, std::string_view key,
                  std::string_view section,
                  const std::vector<std::string>& valid,
                  std::string_view suggestion) {
  const std::string subject = "unknown key " + Quoted(key);
  if (!suggestion.empty()) {
    return InvalidArgument(Located(
        place, subject, "; did you mean `" + std::string(suggestion) + "`?"));
  }
  const std::string where =
      section.empty() ? "valid top-level keys"
                      : "valid keys in `" + std::string(section) + "`";
  return InvalidArgument(
      Located(place, subject, " (" + where + ": " + Join(valid, ", ") + ")"));
}

Status CheckKeys(const YAML::Node& map, const Locator& file,
                 std::string_view section,
                 const std::vector<std::string>& allowed,
                 const std::vector<Candidate>& aliases) {
  for (auto it = map.begin(); it != map.end(); ++it) {
    const YAML::Node key = it->first;  // copies: `it->` is a temporary
    const Place place = file.PlaceOf(key.Mark());
    if (Status s = CheckKeyIsName(key, place); !s.ok()) return s;
    const std::string& k = key.Scalar();
    if (std::find(allowed.begin(), allowed.end(), k) != allowed.end()) {
      continue;
    }
    std::vector<Candidate> pool = aliases;
    for (const std::string& a : allowed) pool.push_back({a, a, 0});
    return UnknownKey(place, k, section, allowed,
                      ClosestMatch(k, pool).value_or(""));
  }
  return Status::Ok();
}

}  // namespace dstrain::yaml
