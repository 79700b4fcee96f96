#pragma once
// The keys of a YAML mapping: finding one, where its value is, and the
// strict loaders' key errors, one line each:
//   key at x.yaml:4:1: expected a name, got a list of 2 items
//   unknown key `stpes` at x.yaml:5:3; did you mean `steps`?
//   unknown key `colour` at x.yaml:4:1 (valid top-level keys: name, ...)
//   unknown key `nodse` at x.yaml:2:5 (valid keys in `train`: a, b)
// Messages about an override place read `--set `k=v`: unknown key ...`.
//
// Pure functions over yaml-cpp nodes; safe from any thread for nodes no
// thread changes.

#include <yaml-cpp/node/node.h>

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "common/yaml/place.h"
#include "common/yaml/suggest.h"

namespace dstrain::yaml {

// A null value's mark points past it (often at the next line), so
// messages about a missing value point at its key.
YAML::Mark ValueMark(const YAML::Node& key, const YAML::Node& value);

// One `key: value` entry of a mapping, or none (`found` false: a default
// YAML::Node is defined, and null, so it cannot say "absent" itself).
struct Entry {
  YAML::Node key;
  YAML::Node value;
  bool found = false;

  bool present() const { return found; }
  // ValueMark(key, value).
  YAML::Mark mark() const { return ValueMark(key, value); }
};

// The first entry of `map` whose key is the scalar `key`; none when `map`
// is not a mapping or has no such key.
Entry Lookup(const YAML::Node& map, std::string_view key);

// OK when `key` is a scalar; else "key at PLACE: expected a name, got ...".
Status CheckKeyIsName(const YAML::Node& key, const Place& place);

// "unknown key `key` at PLACE; did you mean `suggestion`?", or without a
// suggestion "... (valid keys in `section`: a, b)" ("valid top-level
// keys" when `section` is empty).
Status UnknownKey(const Place& place, std::string_view key,
                  std::string_view section,
                  const std::vector<std::string>& valid,
                  std::string_view suggestion);

// Every key of `map` is a name among `allowed`; else the first that is
// not, with a suggestion from `allowed` and `aliases` (names people use
// for one of ours: {"gpus", "devices", 1}). `section` names the mapping
// in the list of valid keys.
Status CheckKeys(const YAML::Node& map, const Locator& file,
                 std::string_view section,
                 const std::vector<std::string>& allowed,
                 const std::vector<Candidate>& aliases = {});

}  // namespace dstrain::yaml
