#pragma once
// Where a value came from, and how messages name that place: a position
// in a file (`job.yaml:7:40`, line and column 1-based, the file as the
// user spelt it), a command-line override (`--set model.heads=3`), or
// nowhere (a default).
//
// Locator turns yaml-cpp's 0-based marks into such positions for one
// file. Plain values; thread-compatible (const methods are thread-safe).

#include <yaml-cpp/mark.h>

#include <string>
#include <string_view>

namespace dstrain::yaml {

struct Place {
  enum class Kind { kNone, kFile, kOverride };
  Kind kind = Kind::kNone;
  std::string text;  // "job.yaml:7:40" (kFile) or "model.heads=3" (kOverride)
};

// One message about one place:
//   kFile:     SUBJECT at job.yaml:7:40REST
//   kOverride: --set `model.heads=3`: SUBJECTREST
//   kNone:     SUBJECTREST
std::string Located(const Place& place, std::string_view subject,
                    std::string_view rest);

class Locator {
 public:
  // `display` names the file in messages (control characters escaped, so
  // that every message stays on one line).
  explicit Locator(std::string_view display);

  const std::string& display() const { return display_; }

  // "job.yaml:7:40". A null mark (yaml-cpp's for values it made up) gives
  // "job.yaml:0:0"; callers that can meet one use PlaceOf.
  std::string At(const YAML::Mark& m) const;

  // A kFile place at `m`, or kNone for a null mark.
  Place PlaceOf(const YAML::Mark& m) const;

 private:
  std::string display_;
};

}  // namespace dstrain::yaml
