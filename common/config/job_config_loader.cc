#include "common/config/job_config_loader.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <sstream>

#include "common/config/job_checks.h"
#include "common/config/job_origins.h"
#include "common/config/job_schema.h"
#include "common/glob_files.h"
#include "common/read_file.h"
#include "common/strings.h"
#include "common/units.h"
#include "common/yaml/describe.h"
#include "common/yaml/document.h"
#include "common/yaml/duplicate_keys.h"
#include "common/yaml/keys.h"
#include "common/yaml/parse.h"
#include "common/yaml/scalars.h"
#include "common/yaml/text.h"

namespace dstrain::config {
namespace {

namespace fs = std::filesystem;
using internal::Located;
using internal::Origin;
using internal::Origins;
using internal::Place;
using schema::Field;
using schema::FieldKind;
using schema::FieldValue;
using yaml::Describe;
using yaml::Quoted;

constexpr std::int64_t kIntMax = 2147483647;

// A job file is a few kilobytes and a few levels deep; the toolkit's
// limits stand far above that.
yaml::DocumentRules JobFileRules() {
  yaml::DocumentRules rules;
  rules.what = "a job file";
  rules.empty_hint =
      "a job file is a YAML mapping with at least `name` and `data.path` "
      "(see configs/README.md)";
  rules.mapping_hint = "a mapping of keys (`name`, `data`, `train`, ...)";
  rules.second_document_at = yaml::SecondDocumentAt::kContent;
  return rules;
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
// `amp: bf16` (or `--set amp=bf16`) for a section: when the value would
// fit exactly one key of the section, suggest it ("; did you mean
// `amp.dtype: bf16`?").
std::string SectionValueHint(const std::string& section,
                             const YAML::Node& value) {
  if (!value.IsScalar()) return "";
  const std::string& text = value.Scalar();
  const std::string prefix = section + ".";
  std::vector<const schema::Field*> fits, leaves;
  for (const schema::Field& f : schema::Fields()) {
    if (f.path.rfind(prefix, 0) != 0 ||
        f.path.find('.', prefix.size()) != std::string::npos) {
      continue;
    }
    leaves.push_back(&f);
    const bool fits_enum =
        f.kind == schema::FieldKind::kEnum &&
        std::find(f.choices.begin(), f.choices.end(), text) != f.choices.end();
    if (fits_enum) fits.push_back(&f);
  }
  const schema::Field* pick = fits.size() == 1     ? fits[0]
                              : leaves.size() == 1 ? leaves[0]
                                                   : nullptr;
  if (pick == nullptr) return "";
  return "; did you mean `" + pick->path + ": " + text + "` (`--set " +
         pick->path + "=" + text + "`)?";
}

// A file with more problems than this is probably not a job file.
constexpr std::size_t kMaxErrors = 20;

class Loader {
 public:
  Loader(std::string display, std::string stored_path)
      : file_(std::move(display)) {
    config_.source_path = std::move(stored_path);
    std::error_code ec;
    fs::path abs = fs::absolute(fs::path(config_.source_path), ec);
    base_dir_ = ec ? fs::current_path(ec) : abs.parent_path();
  }

  StatusOr<JobConfig> Run(const std::string& text,
                          const std::vector<std::string>& overrides) {
    DSTRAIN_ASSIGN_OR_RETURN(YAML::Node root,
                             yaml::ReadMapping(text, file_, JobFileRules()));
    DSTRAIN_RETURN_IF_ERROR(yaml::CheckNoDuplicateKeys(root, file_));
    for (const std::string& ov : overrides) {
      DSTRAIN_RETURN_IF_ERROR(ApplyOverride(root, ov));
    }
    // Like a compiler, report every problem found in one pass (capped):
    // each key on its own, then the missing keys, then the combinations
    // (only of values that all parsed, so one typo does not cascade).
    WalkMap(root, "");
    if (errors_.empty()) CheckRequired();
    if (errors_.empty()) {
      for (Status& e : internal::CombinationErrors(config_, origins_)) {
        Note(std::move(e));
      }
      Note(internal::CheckJobFilePolicy(config_, origins_));
    }
    DSTRAIN_RETURN_IF_ERROR(AllErrors());
    DSTRAIN_RETURN_IF_ERROR(internal::RefuseUnbuiltFeatures(config_, origins_));
    DSTRAIN_RETURN_IF_ERROR(ResolvePaths());
    return config_;
  }

 private:
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
    return file_.PlaceOf(m);
  }

  Status UnknownKey(const Place& place, const std::string& section,
                    const std::string& key) {
    return yaml::UnknownKey(place, key, section, schema::ChildKeys(section),
                            schema::SuggestKey(section, key));
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
    if (std::optional<yaml::ParseError> e =
            yaml::Parse(value_text, "a --set value", yaml::Limits{}, &value)) {
      const std::string brief = e->Brief();
      return InvalidArgument(
          Located(place, "cannot parse the value " + Quoted(value_text),
                  brief.empty() ? "" : ": " + brief));
    }
    if (std::optional<yaml::DuplicateKey> d = yaml::FindDuplicateKey(value)) {
      return InvalidArgument(
          Located(place, "duplicate key " + Quoted(d->key), ""));
    }

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
                                       " is not a mapping in " +
                                           file_.display() + " (it holds " +
                                           Describe(child) + ")"));
      }
      cur.reset(child);
    }
    cur[segments.back()] = value;
    override_of_[key] = ov;
    return Status::Ok();
  }

  // Walks one mapping of the job, noting every key's problem (Note) and
  // going on with the next key; nested mappings likewise.
  void WalkMap(const YAML::Node& map, const std::string& section) {
    for (auto it = map.begin(); it != map.end() && !Full(); ++it) {
      const YAML::Node key = it->first;  // copies: `it->` is a temporary
      const YAML::Node value = it->second;
      Note(WalkKey(key, value, section));
    }
  }

  Status WalkKey(const YAML::Node& key, const YAML::Node& value,
                 const std::string& section) {
    DSTRAIN_RETURN_IF_ERROR(
        yaml::CheckKeyIsName(key, PlaceFor(section, key.Mark())));
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
    const Place value_place = PlaceFor(path, yaml::ValueMark(key, value));
    if (const Field* f = schema::FindField(path)) {
      present_.insert(path);
      return ParseLeaf(*f, value, value_place);
    }
    if (!schema::IsSection(path)) return UnknownKey(key_place, section, k);
    present_.insert(path);
    section_place_[path] = key_place;
    if (!value.IsDefined() || value.IsNull()) return Status::Ok();  // `zero:`
    if (!value.IsMap()) {
      Status e = yaml::Expected({path, value_place},
                                "a mapping of `" + path + ".*` keys", value);
      return InvalidArgument(e.message() + SectionValueHint(path, value));
    }
    WalkMap(value, path);
    return Status::Ok();
  }

  // Keeps a problem for AllErrors; false when `s` is one.
  bool Note(Status s) {
    if (s.ok()) return true;
    if (errors_.size() < kMaxErrors) {
      errors_.push_back(std::move(s));
    } else {
      ++errors_left_out_;
    }
    return false;
  }
  bool Full() const { return errors_.size() >= kMaxErrors; }

  // OK, the one problem, or every problem on its own line.
  Status AllErrors() const {
    if (errors_.empty()) return Status::Ok();
    if (errors_.size() == 1 && errors_left_out_ == 0) return errors_.front();
    std::string text;
    for (const Status& e : errors_) {
      text += (text.empty() ? "" : "\n") + e.message();
    }
    if (errors_left_out_ > 0 || Full()) {
      text += "\n(stopped after " + std::to_string(kMaxErrors) +
              " errors; fix these first)";
    }
    return InvalidArgument(text);
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
    const yaml::Subject subject{path, place};
    double as_double = 0;
    switch (f.kind) {
      case FieldKind::kInt: {
        DSTRAIN_ASSIGN_OR_RETURN(
            std::int64_t i, yaml::ReadInt(v, subject, schema::KindText(f)));
        if (i > kIntMax) {
          return RangeError(path, v.Scalar(), place,
                            "<= " + std::to_string(kIntMax));
        }
        out->i = i;
        as_double = static_cast<double>(i);
        break;
      }
      case FieldKind::kUint64: {
        DSTRAIN_ASSIGN_OR_RETURN(
            std::uint64_t u, yaml::ReadUint64(v, subject, schema::KindText(f)));
        out->u = u;
        as_double = static_cast<double>(u);
        break;
      }
      default: {  // kDouble, or an element of kPair
        const bool seconds =
            path.size() > 2 && path.compare(path.size() - 2, 2, "_s") == 0;
        StatusOr<double> read = yaml::ReadDouble(
            v, subject, seconds ? "a number of seconds" : "a number");
        if (!read.ok() && seconds && v.IsScalar()) {
          // `500ms` for a seconds field: say the unit and the number.
          if (std::optional<double> s = ParseLatency(v.Scalar())) {
            return InvalidArgument(read.status().message() +
                                   "; the unit is seconds: write " +
                                   StrFormat("%g", *s));
          }
        }
        DSTRAIN_ASSIGN_OR_RETURN(double d, std::move(read));
        out->d = d;
        as_double = d;
        break;
      }
    }
    if (!schema::InRange(f, as_double)) {
      return RangeError(path, v.Scalar(), place, schema::RangeText(f));
    }
    return Status::Ok();
  }

  Status ParseLeaf(const Field& f, const YAML::Node& v, const Place& place) {
    const yaml::Subject subject{f.path, place};
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
        DSTRAIN_ASSIGN_OR_RETURN(
            bool b, yaml::ReadBool(v, subject, schema::KindText(f)));
        value.b = b;
        text = b ? "true" : "false";
        break;
      }
      case FieldKind::kString:
      case FieldKind::kPath: {
        DSTRAIN_ASSIGN_OR_RETURN(
            std::string s, yaml::ReadString(v, subject, schema::KindText(f)));
        value.s = s;
        text = yaml::OneLine(value.s);
        break;
      }
      case FieldKind::kEnum: {
        DSTRAIN_ASSIGN_OR_RETURN(
            size_t i,
            yaml::ReadChoice(v, subject, f.choices, schema::KindText(f)));
        value.i = static_cast<std::int64_t>(i);
        value.s = f.choices[i];
        text = value.s;
        break;
      }
      case FieldKind::kPair: {
        if (!v.IsSequence() || v.size() != 2) {
          return yaml::Expected(subject, "a list of two numbers [beta1, beta2]",
                                v);
        }
        for (size_t i = 0; i < 2; ++i) {
          const YAML::Node item = v[i];
          const std::string item_path = f.path + "[" + std::to_string(i) + "]";
          Place item_place = place;
          if (place.kind == Place::Kind::kFile && !item.Mark().is_null()) {
            item_place = file_.PlaceOf(item.Mark());
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
      return yaml::Expected(subject,
                            "a file name of letters, digits, `.`, `_` and "
                            "`-` (it becomes runs/<name>/)",
                            v);
    }
    f.set(config_, value);
    origins_.Record(f.path, Origin{place, text});
    return Status::Ok();
  }

  void CheckRequired() {
    for (const Field& f : schema::Fields()) {
      if (!f.required || present_.count(f.path) > 0) continue;
      // Generated data reads no file.
      if (f.path == "data.path" && config_.data.type == "synthetic") continue;
      std::string msg =
          "missing required key `" + f.path + "` in " + file_.display();
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
      Note(InvalidArgument(msg));
    }
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
    if (folder_ok && IsGlobPattern(p.string())) {
      // Shards by pattern (`train-*.bin`): at least one regular file.
      if (GlobFiles(p.string()).empty()) {
        return InvalidArgument(
            Located(origins_.PlaceOf(key),
                    "`" + std::string(key) + "` = " + Quoted(*value),
                    ": no file matches (" + yaml::OneLine(p.string()) + ")"));
      }
      *value = p.string();
      return Status::Ok();
    }
    std::error_code ec;
    const fs::file_status st = fs::status(p, ec);
    const std::string subject =
        "`" + std::string(key) + "` = " + Quoted(*value);
    if (ec || !fs::exists(st)) {
      return InvalidArgument(Located(
          origins_.PlaceOf(key), subject,
          std::string(": no such ") + (folder_ok ? "file or folder" : "file") +
              " (" + yaml::OneLine(p.string()) + ")"));
    }
    if (!fs::is_regular_file(st) && !(folder_ok && fs::is_directory(st))) {
      return InvalidArgument(
          Located(origins_.PlaceOf(key), subject,
                  std::string(": not a ") +
                      (folder_ok ? "regular file or folder" : "regular file") +
                      " (" + yaml::OneLine(p.string()) + ")"));
    }
    *value = p.string();
    return Status::Ok();
  }

  Status ResolvePaths() {
    // Generated data reads no file.
    if (config_.data.type == "text" && IsGlobPattern(config_.data.path)) {
      return InvalidArgument(Located(
          origins_.PlaceOf("data.path"),
          "`data.path` = " + Quoted(config_.data.path),
          ": a pattern, but `data.type` text reads one file or a folder; "
          "name the folder, or prepare tokens (`dstrain data prepare`)"));
    }
    if (!(config_.data.type == "synthetic" && config_.data.path.empty())) {
      DSTRAIN_RETURN_IF_ERROR(
          ResolvePath("data.path", &config_.data.path, /*folder_ok=*/true));
    }
    DSTRAIN_RETURN_IF_ERROR(ResolvePath(
        "topology.cluster", &config_.topology.cluster, /*folder_ok=*/false));
    return Status::Ok();
  }

  yaml::Locator file_;  // the file as the user named it, for messages
  fs::path base_dir_;   // absolute folder that relative paths start from
  JobConfig config_;
  Origins origins_;
  std::set<std::string> present_;               // paths found in the tree
  std::map<std::string, Place> section_place_;  // where each section's key is
  std::map<std::string, std::string> override_of_;  // key path -> override
  std::vector<Status> errors_;  // every problem found so far, in order
  int errors_left_out_ = 0;     // beyond kMaxErrors
};

}  // namespace

StatusOr<JobConfig> LoadJobFile(const std::string& path,
                                const std::vector<std::string>& overrides) {
  // Read with room above the YAML toolkit's own size limit, which then
  // refuses a too-large file with its message.
  StatusOr<std::string> read =
      ReadConfigFile(path, kMaxConfigFileRead, "job file");
  // The job file is an argument: one that cannot be read is a bad one.
  if (!read.ok()) return InvalidArgument(read.status().message());
  std::string text = std::move(read).value();
  std::error_code ec;
  const fs::path abs = fs::absolute(fs::path(path), ec).lexically_normal();
  Loader loader(path, ec ? path : abs.string());
  return loader.Run(text, overrides);
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
