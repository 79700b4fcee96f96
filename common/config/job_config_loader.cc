#include "common/config/job_config_loader.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "common/config/job_checks.h"
#include "common/config/job_origins.h"
#include "common/config/job_schema.h"
#include "common/config/suggest.h"

namespace dstrain::config {
namespace {

namespace fs = std::filesystem;
using internal::Located;
using internal::Origin;
using internal::Origins;
using internal::Place;
using internal::Quoted;
using schema::Field;
using schema::FieldKind;
using schema::FieldValue;

constexpr std::int64_t kIntMax = 2147483647;

// Scalars written in quotes (or tagged !!str) are strings even when they
// look like numbers; a number field refuses them rather than guess.
bool IsQuoted(const YAML::Node& n) {
  return n.Tag() == "!" || n.Tag() == "tag:yaml.org,2002:str";
}

// How a value looks in a message: `abc`, `"5"`, nothing, a list of 3 items,
// a mapping.
std::string Describe(const YAML::Node& n) {
  if (!n.IsDefined() || n.IsNull()) return "nothing";
  if (n.IsScalar()) {
    std::string s = n.Scalar();
    if (s.size() > 60) s = s.substr(0, 57) + "...";
    return IsQuoted(n) ? Quoted("\"" + s + "\"") : Quoted(s);
  }
  if (n.IsSequence()) {
    return "a list of " + std::to_string(n.size()) +
           (n.size() == 1 ? " item" : " items");
  }
  return "a mapping";
}

// The text of a scalar for Origins, on one line and without backquotes.
std::string OneLine(const std::string& s) {
  const std::string q = Quoted(s);
  return q.substr(1, q.size() - 2);
}

std::string Join(const std::vector<std::string>& v, const char* sep) {
  std::string out;
  for (size_t i = 0; i < v.size(); ++i) {
    if (i > 0) out += sep;
    out += v[i];
  }
  return out;
}

std::optional<std::int64_t> ParseInt(std::string_view s) {
  if (!s.empty() && s[0] == '+') s.remove_prefix(1);
  std::int64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || s.empty()) {
    return std::nullopt;
  }
  return v;
}

std::optional<std::uint64_t> ParseUint(std::string_view s) {
  if (!s.empty() && s[0] == '+') s.remove_prefix(1);
  std::uint64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || s.empty()) {
    return std::nullopt;
  }
  return v;
}

std::optional<double> ParseDouble(std::string_view s) {
  if (!s.empty() && s[0] == '+') s.remove_prefix(1);
  double v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || s.empty() ||
      !std::isfinite(v)) {
    return std::nullopt;
  }
  return v;
}

std::optional<bool> ParseBool(std::string_view s) {
  const std::string n = NormalizeSpelling(s);
  if (n == "true" || n == "yes" || n == "on") return true;
  if (n == "false" || n == "no" || n == "off") return false;
  return std::nullopt;
}

// A job name becomes a folder (runs/<name>/) and part of ids.
bool IsSafeName(const std::string& s) {
  if (s.empty() || s.size() > 100 || s == "." || s == "..") return false;
  for (char c : s) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                    (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

// One load: the YAML tree, where things came from, and the config it fills.
class Loader {
 public:
  Loader(std::string display, std::string stored_path)
      : display_(std::move(display)) {
    config_.source_path = std::move(stored_path);
    std::error_code ec;
    fs::path abs = fs::absolute(fs::path(config_.source_path), ec);
    base_dir_ = ec ? fs::current_path(ec) : abs.parent_path();
  }

  StatusOr<JobConfig> Run(const std::string& text,
                          const std::vector<std::string>& overrides) {
    YAML::Node root;
    DSTRAIN_RETURN_IF_ERROR(ParseDocument(text, &root));
    DSTRAIN_RETURN_IF_ERROR(FindDuplicateKeys(root, Place{}));
    for (const std::string& ov : overrides) {
      DSTRAIN_RETURN_IF_ERROR(ApplyOverride(root, ov));
    }
    DSTRAIN_RETURN_IF_ERROR(WalkMap(root, ""));
    DSTRAIN_RETURN_IF_ERROR(CheckRequired());
    DSTRAIN_RETURN_IF_ERROR(internal::CheckCombinations(config_, origins_));
    DSTRAIN_RETURN_IF_ERROR(internal::CheckJobFilePolicy(config_, origins_));
    DSTRAIN_RETURN_IF_ERROR(internal::RefuseUnbuiltFeatures(config_, origins_));
    DSTRAIN_RETURN_IF_ERROR(ResolvePaths());
    return config_;
  }

 private:
  std::string Loc(const YAML::Mark& m) const {
    return display_ + ":" + std::to_string(m.line + 1) + ":" +
           std::to_string(m.column + 1);
  }

  Place FilePlace(const YAML::Mark& m) const {
    if (m.is_null()) return Place{};
    return Place{Place::Kind::kFile, Loc(m)};
  }

  // The override that set `path` or a mapping above it (the longest wins),
  // else the file position `m`.
  Place PlaceFor(const std::string& path, const YAML::Mark& m) const {
    const std::string* best = nullptr;
    size_t best_len = 0;
    for (const auto& [p, ov] : override_of_) {
      const bool covers = p == path || (path.size() > p.size() &&
                                        path.compare(0, p.size(), p) == 0 &&
                                        path[p.size()] == '.');
      if (covers && p.size() >= best_len) {
        best = &ov;
        best_len = p.size();
      }
    }
    if (best != nullptr) return Place{Place::Kind::kOverride, *best};
    return FilePlace(m);
  }

  // A null value's mark points past it (often at the next line), so
  // messages about it point at its key.
  static YAML::Mark ValueMark(const YAML::Node& key, const YAML::Node& value) {
    if (!value.IsDefined() || value.IsNull() || value.Mark().is_null()) {
      return key.Mark();
    }
    return value.Mark();
  }

  Status ParseDocument(const std::string& text, YAML::Node* root) {
    std::vector<YAML::Node> docs;
    try {
      docs = YAML::LoadAll(text);
    } catch (const YAML::ParserException& e) {
      if (e.mark.is_null()) {
        return InvalidArgument("YAML syntax error in " + display_ + ": " +
                               e.msg);
      }
      return InvalidArgument("YAML syntax error at " + Loc(e.mark) + ": " +
                             e.msg);
    } catch (const YAML::Exception& e) {
      return InvalidArgument("cannot read " + display_ +
                             " as YAML: " + OneLine(e.what()));
    }
    if (docs.empty() || (docs.size() == 1 && docs[0].IsNull())) {
      return InvalidArgument(
          display_ +
          " is empty: a job file is a YAML mapping with at least `name` and "
          "`data.path` (see configs/README.md)");
    }
    if (docs.size() > 1) {
      const YAML::Mark m = docs[1].Mark();
      if (m.is_null()) {
        return InvalidArgument(display_ + " holds " +
                               std::to_string(docs.size()) +
                               " YAML documents; a job file holds one");
      }
      return InvalidArgument("second YAML document at " + Loc(m) +
                             ": a job file holds one document");
    }
    if (!docs[0].IsMap()) {
      return InvalidArgument(
          Located(FilePlace(docs[0].Mark()), "document",
                  ": expected a mapping of keys (`name`, `data`, `train`, "
                  "...), got " +
                      Describe(docs[0])));
    }
    *root = docs[0];
    return Status::Ok();
  }

  // yaml-cpp keeps both entries of a repeated key and lookups see only the
  // first, so a repeated key would be silently half-ignored.
  Status FindDuplicateKeys(const YAML::Node& node, const Place& override) {
    if (node.IsSequence()) {
      for (const YAML::Node& item : node) {
        DSTRAIN_RETURN_IF_ERROR(FindDuplicateKeys(item, override));
      }
    } else if (node.IsMap()) {
      std::map<std::string, YAML::Mark> seen;
      for (auto it = node.begin(); it != node.end(); ++it) {
        if (it->first.IsScalar()) {
          const std::string& k = it->first.Scalar();
          auto [pos, fresh] = seen.emplace(k, it->first.Mark());
          if (!fresh) {
            if (override.kind == Place::Kind::kOverride) {
              return InvalidArgument(
                  Located(override, "duplicate key " + Quoted(k), ""));
            }
            return InvalidArgument("duplicate key " + Quoted(k) + " at " +
                                   Loc(it->first.Mark()) + " (first at " +
                                   Loc(pos->second) + ")");
          }
        }
        DSTRAIN_RETURN_IF_ERROR(FindDuplicateKeys(it->second, override));
      }
    }
    return Status::Ok();
  }

  Status UnknownKey(const Place& place, const std::string& section,
                    const std::string& key) {
    const std::string suggestion = schema::SuggestKey(section, key);
    if (!suggestion.empty()) {
      return InvalidArgument(Located(place, "unknown key " + Quoted(key),
                                     "; did you mean `" + suggestion + "`?"));
    }
    const std::string where = section.empty()
                                  ? "valid top-level keys"
                                  : "valid keys in `" + section + "`";
    return InvalidArgument(Located(
        place, "unknown key " + Quoted(key),
        " (" + where + ": " + Join(schema::ChildKeys(section), ", ") + ")"));
  }

  // `dotted.key=value`: check the key against the schema, parse the value
  // as YAML, and graft it into the tree, creating mappings on the way.
  Status ApplyOverride(YAML::Node& root, const std::string& ov) {
    const Place place{Place::Kind::kOverride, ov};
    const size_t eq = ov.find('=');
    if (eq == std::string::npos || eq == 0) {
      return InvalidArgument(Located(place, "expected `dotted.key=value`",
                                     ", e.g. `train.steps=500`"));
    }
    const std::string key = ov.substr(0, eq);
    const std::string value_text = ov.substr(eq + 1);
    std::vector<std::string> segments;
    for (size_t start = 0;;) {
      const size_t dot = key.find('.', start);
      segments.push_back(key.substr(
          start, dot == std::string::npos ? std::string::npos : dot - start));
      if (dot == std::string::npos) break;
      start = dot + 1;
    }
    std::string path;
    for (size_t i = 0; i < segments.size(); ++i) {
      const std::string section = path;
      path = section.empty() ? segments[i] : section + "." + segments[i];
      if (segments[i].empty()) {
        return InvalidArgument(
            Located(place, Quoted(key), " is not a dotted key path"));
      }
      const bool last = i + 1 == segments.size();
      if (schema::FindField(path) != nullptr) {
        if (!last) {
          return InvalidArgument(Located(place, "`" + path + "`",
                                         " is a single value, not a mapping"));
        }
      } else if (!schema::IsSection(path)) {
        return UnknownKey(place, section, segments[i]);
      }
    }

    YAML::Node value;
    try {
      value = YAML::Load(value_text);
    } catch (const YAML::ParserException& e) {
      return InvalidArgument(Located(
          place, "cannot parse the value " + Quoted(value_text), ": " + e.msg));
    } catch (const YAML::Exception& e) {
      return InvalidArgument(
          Located(place, "cannot parse the value " + Quoted(value_text), ""));
    }
    DSTRAIN_RETURN_IF_ERROR(FindDuplicateKeys(value, place));

    YAML::Node cur = root;
    std::string walked;
    for (size_t i = 0; i + 1 < segments.size(); ++i) {
      walked = walked.empty() ? segments[i] : walked + "." + segments[i];
      YAML::Node child = cur[segments[i]];
      if (!child.IsDefined() || child.IsNull()) {
        cur[segments[i]] = YAML::Node(YAML::NodeType::Map);
        child.reset(cur[segments[i]]);
      } else if (!child.IsMap()) {
        return InvalidArgument(Located(place, "`" + walked + "`",
                                       " is not a mapping in " + display_ +
                                           " (it holds " + Describe(child) +
                                           ")"));
      }
      cur.reset(child);
    }
    cur[segments.back()] = value;
    override_of_[key] = ov;
    return Status::Ok();
  }

  Status WalkMap(const YAML::Node& map, const std::string& section) {
    for (auto it = map.begin(); it != map.end(); ++it) {
      const YAML::Node key = it->first;  // copies: `it->` is a temporary
      const YAML::Node value = it->second;
      if (!key.IsScalar()) {
        return InvalidArgument(
            Located(PlaceFor(section, key.Mark()), "key",
                    ": expected a name, got " + Describe(key)));
      }
      const std::string& k = key.Scalar();
      const std::string path = section.empty() ? k : section + "." + k;
      const Place key_place = PlaceFor(path, key.Mark());
      if (k.empty()) return UnknownKey(key_place, section, k);
      if (k.find('.') != std::string::npos &&
          (schema::FindField(path) != nullptr || schema::IsSection(path))) {
        return InvalidArgument(
            Located(key_place, "unknown key " + Quoted(k),
                    "; dotted keys are for --set: nest it under `" +
                        k.substr(0, k.find('.')) + ":` instead"));
      }
      if (const Field* f = schema::FindField(path)) {
        present_.insert(path);
        DSTRAIN_RETURN_IF_ERROR(
            ParseLeaf(*f, value, PlaceFor(path, ValueMark(key, value))));
      } else if (schema::IsSection(path)) {
        present_.insert(path);
        section_place_[path] = key_place;
        if (!value.IsDefined() || value.IsNull()) continue;  // `zero:` alone
        if (!value.IsMap()) {
          return InvalidArgument(
              Located(PlaceFor(path, ValueMark(key, value)), "`" + path + "`",
                      ": expected a mapping of `" + path + ".*` keys, got " +
                          Describe(value)));
        }
        DSTRAIN_RETURN_IF_ERROR(WalkMap(value, path));
      } else {
        return UnknownKey(key_place, section, k);
      }
    }
    return Status::Ok();
  }

  Status TypeError(const Field& f, const Place& place, const YAML::Node& v) {
    return InvalidArgument(
        Located(place, "`" + f.path + "`",
                ": expected " + schema::KindText(f) + ", got " + Describe(v)));
  }

  Status RangeError(const std::string& path, const std::string& text,
                    const Place& place, const std::string& must) {
    return InvalidArgument(Located(place, "`" + path + "` = " + text,
                                   " is out of range: must be " + must));
  }

  // Parses one number of a numeric field (kInt, kUint64, kDouble or one
  // element of kPair) and checks its range.
  Status ParseNumber(const Field& f, const std::string& path,
                     const YAML::Node& v, const Place& place, FieldValue* out) {
    if (!v.IsScalar() || IsQuoted(v)) return TypeError(f, place, v);
    const std::string& s = v.Scalar();
    double as_double = 0;
    switch (f.kind) {
      case FieldKind::kInt: {
        auto i = ParseInt(s);
        if (!i) return TypeError(f, place, v);
        if (*i > kIntMax) {
          return RangeError(path, s, place, "<= " + std::to_string(kIntMax));
        }
        out->i = *i;
        as_double = static_cast<double>(*i);
        break;
      }
      case FieldKind::kUint64: {
        auto u = ParseUint(s);
        if (!u) return TypeError(f, place, v);
        out->u = *u;
        as_double = static_cast<double>(*u);
        break;
      }
      default: {
        auto d = ParseDouble(s);
        if (!d) {
          Field number = f;
          number.kind = FieldKind::kDouble;
          return TypeError(number, place, v);
        }
        out->d = *d;
        as_double = *d;
        break;
      }
    }
    if (!schema::InRange(f, as_double)) {
      return RangeError(path, s, place, schema::RangeText(f));
    }
    return Status::Ok();
  }

  Status ParseLeaf(const Field& f, const YAML::Node& v, const Place& place) {
    FieldValue value;
    std::string text;
    switch (f.kind) {
      case FieldKind::kInt:
      case FieldKind::kUint64:
      case FieldKind::kDouble:
        DSTRAIN_RETURN_IF_ERROR(ParseNumber(f, f.path, v, place, &value));
        text = v.Scalar();
        break;
      case FieldKind::kBool: {
        if (!v.IsScalar() || IsQuoted(v)) return TypeError(f, place, v);
        auto b = ParseBool(v.Scalar());
        if (!b) return TypeError(f, place, v);
        value.b = *b;
        text = *b ? "true" : "false";
        break;
      }
      case FieldKind::kString:
      case FieldKind::kPath:
        if (!v.IsScalar()) return TypeError(f, place, v);
        value.s = v.Scalar();
        text = OneLine(value.s);
        break;
      case FieldKind::kEnum: {
        if (!v.IsScalar()) return TypeError(f, place, v);
        const std::string& s = v.Scalar();
        auto it = std::find(f.choices.begin(), f.choices.end(), s);
        if (it == f.choices.end()) {
          std::vector<Candidate> pool;
          for (const std::string& c : f.choices) pool.push_back({c, c, 0});
          const auto near = ClosestMatch(s, pool);
          return InvalidArgument(Located(
              place, "`" + f.path + "`",
              ": expected " + schema::KindText(f) + ", got " + Describe(v) +
                  (near ? "; did you mean `" + *near + "`?" : "")));
        }
        value.i = it - f.choices.begin();
        value.s = s;
        text = s;
        break;
      }
      case FieldKind::kPair: {
        if (!v.IsSequence() || v.size() != 2) {
          return InvalidArgument(
              Located(place, "`" + f.path + "`",
                      ": expected a list of two numbers [beta1, beta2], got " +
                          Describe(v)));
        }
        for (size_t i = 0; i < 2; ++i) {
          const YAML::Node item = v[i];
          const std::string item_path = f.path + "[" + std::to_string(i) + "]";
          Place item_place = place;
          if (place.kind == Place::Kind::kFile && !item.Mark().is_null()) {
            item_place = FilePlace(item.Mark());
          }
          FieldValue one;
          Field element = f;
          element.path = item_path;
          DSTRAIN_RETURN_IF_ERROR(
              ParseNumber(element, item_path, item, item_place, &one));
          value.pair[i] = one.d;
        }
        text = "[" + v[0].Scalar() + ", " + v[1].Scalar() + "]";
        break;
      }
    }
    if (f.path == "name" && !IsSafeName(value.s)) {
      return InvalidArgument(Located(
          place, "`name`",
          ": expected a file name of letters, digits, `.`, `_` and `-` (it "
          "becomes runs/<name>/), got " +
              Describe(v)));
    }
    f.set(config_, value);
    origins_.Record(f.path, Origin{place, text});
    return Status::Ok();
  }

  Status CheckRequired() {
    for (const Field& f : schema::Fields()) {
      if (!f.required || present_.count(f.path) > 0) continue;
      std::string msg = "missing required key `" + f.path + "` in " + display_;
      const size_t dot = f.path.rfind('.');
      if (dot != std::string::npos) {
        const std::string parent = f.path.substr(0, dot);
        auto it = section_place_.find(parent);
        if (it != section_place_.end() &&
            it->second.kind != Place::Kind::kNone) {
          msg += " (" +
                 Located(it->second, "`" + parent + "`",
                         " has no `" + f.path.substr(dot + 1) + "`") +
                 ")";
        }
      }
      return InvalidArgument(msg);
    }
    return Status::Ok();
  }

  // Relative paths resolve against the job file's folder; the result must
  // exist now, so a typo stops the job before anything starts.
  Status ResolvePath(const char* key, std::string* value, bool folder_ok) {
    if (value->empty()) {
      if (schema::FindField(key)->required) {
        return InvalidArgument(Located(origins_.PlaceOf(key),
                                       "`" + std::string(key) + "`",
                                       ": expected a path, got an empty "
                                       "string"));
      }
      return Status::Ok();
    }
    fs::path p(*value);
    if (p.is_relative()) p = base_dir_ / p;
    p = p.lexically_normal();
    std::error_code ec;
    const fs::file_status st = fs::status(p, ec);
    const std::string subject =
        "`" + std::string(key) + "` = " + Quoted(OneLine(*value));
    if (ec || !fs::exists(st)) {
      return InvalidArgument(Located(
          origins_.PlaceOf(key), subject,
          std::string(": no such ") + (folder_ok ? "file or folder" : "file") +
              " (" + p.string() + ")"));
    }
    if (!fs::is_regular_file(st) && !(folder_ok && fs::is_directory(st))) {
      return InvalidArgument(
          Located(origins_.PlaceOf(key), subject,
                  std::string(": not a ") +
                      (folder_ok ? "regular file or folder" : "regular file") +
                      " (" + p.string() + ")"));
    }
    *value = p.string();
    return Status::Ok();
  }

  Status ResolvePaths() {
    DSTRAIN_RETURN_IF_ERROR(
        ResolvePath("data.path", &config_.data.path, /*folder_ok=*/true));
    DSTRAIN_RETURN_IF_ERROR(ResolvePath(
        "topology.cluster", &config_.topology.cluster, /*folder_ok=*/false));
    return Status::Ok();
  }

  std::string display_;  // the file as the user named it, for messages
  fs::path base_dir_;    // absolute folder that relative paths start from
  JobConfig config_;
  Origins origins_;
  std::set<std::string> present_;               // paths found in the tree
  std::map<std::string, Place> section_place_;  // where each section's key is
  std::map<std::string, std::string> override_of_;  // key path -> override
};

}  // namespace

StatusOr<JobConfig> LoadJobFile(const std::string& path,
                                const std::vector<std::string>& overrides) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    return InvalidArgument("cannot read job file `" + path +
                           "`: it is a folder");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return InvalidArgument("cannot read job file `" + path +
                           "`: " + std::strerror(errno));
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) {
    return InvalidArgument("cannot read job file `" + path + "`");
  }
  const fs::path abs = fs::absolute(fs::path(path), ec).lexically_normal();
  Loader loader(path, ec ? path : abs.string());
  return loader.Run(text.str(), overrides);
}

StatusOr<JobConfig> ParseJobYaml(const std::string& yaml_text,
                                 const std::string& source_path,
                                 const std::vector<std::string>& overrides) {
  Loader loader(source_path, source_path);
  return loader.Run(yaml_text, overrides);
}

const std::vector<std::string>& KnownJobKeys() {
  static const std::vector<std::string>* keys = [] {
    auto* v = new std::vector<std::string>;
    for (const Field& f : schema::Fields()) v->push_back(f.path);
    return v;
  }();
  return *keys;
}

}  // namespace dstrain::config
