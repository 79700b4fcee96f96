#pragma once
// The job file's schema as data: one Field per leaf key of JobConfig, with
// its YAML path, kind, allowed range or values and how it lands in the
// struct. The loader walks the YAML tree against this table, KnownJobKeys()
// lists it, and configs/README.md documents it (a test keeps them in step).
// Adding a field to JobConfig means adding one entry in job_schema.cc.
//
// Everything here is immutable after first use and safe from any thread.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/config/job_config.h"

namespace dstrain::config::schema {

enum class FieldKind {
  kInt,     // a whole number that fits in int
  kUint64,  // a whole number >= 0 that fits in 64 bits
  kDouble,  // a finite number
  kBool,    // true | false (also yes | no | on | off)
  kString,  // any scalar
  kEnum,    // one of Field::choices
  kPath,    // a path; relative ones resolve against the job file's folder
  kPair,    // a list of exactly two numbers, each within the range
};

// A parsed value, in the member that matches the field's kind. kEnum puts the
// index of the choice in `i` and its spelling in `s`.
struct FieldValue {
  std::int64_t i = 0;
  std::uint64_t u = 0;
  double d = 0;
  double pair[2] = {0, 0};
  bool b = false;
  std::string s;
};

struct Field {
  std::string path;  // dotted, e.g. "train.optimizer.lr"
  FieldKind kind = FieldKind::kString;
  bool required = false;
  // Range for numbers (kInt, kUint64, kDouble, kPair elements): bounds are
  // inclusive unless the matching *_open flag is set.
  std::optional<double> lo, hi;
  bool lo_open = false, hi_open = false;
  std::vector<std::string> choices;  // kEnum, in the order of the C++ enum
  void (*set)(JobConfig&, const FieldValue&) = nullptr;
  // The field's value in a JobConfig, in the member of FieldValue its kind
  // uses (kEnum: `i` for an enum member, `s` for a string one), so jobs
  // built in code can be held to the same ranges (ValidateJob).
  FieldValue (*get)(const JobConfig&) = nullptr;
};

// Every field, in the order of JobConfig (and of configs/README.md).
const std::vector<Field>& Fields();

// The field at `path`, or null.
const Field* FindField(std::string_view path);

// True for "" (the top level) and for every proper prefix of a field path
// ("train", "train.optimizer", ...).
bool IsSection(std::string_view path);

// The names valid directly under `section` ("" = top level), in schema order.
const std::vector<std::string>& ChildKeys(std::string_view section);

// Names people bring from PyTorch, DeepSpeed, Hugging Face, nanoGPT, torchrun
// or Slurm, mapped to the path of our key (a field or a section).
const std::vector<std::pair<std::string, std::string>>& KeyAliases();

// "did you mean" for an unknown `key` under `section`: a key at that level
// spelt nearly the same, or (through KeyAliases, matched fuzzily) the key
// people usually mean by it, or the same name at another level. Keys at the
// same level come back as their bare name, keys elsewhere as a full path.
// Empty when nothing is close.
std::string SuggestKey(std::string_view section, std::string_view key);

// "a number in [0, 1)", "an integer >= 1", "one of cpu | cuda", ...
std::string KindText(const Field& f);
// "in [0, 1)", ">= 1", "> 0", or "" for an unbounded field.
std::string RangeText(const Field& f);
// Whether `x` lies within the field's range.
bool InRange(const Field& f, double x);

}  // namespace dstrain::config::schema
