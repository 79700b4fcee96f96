#pragma once
// Where each value of a job came from, so that every message can name the
// place: a file position (`job.yaml:7:40`, 1-based), an override
// (`--set model.heads=3`), or nowhere (the default), and what the user
// wrote there. Internal to the loader and its checks; not thread-safe (one
// per load).

#include <map>
#include <string>
#include <string_view>

#include "common/yaml/place.h"

namespace dstrain::config::internal {

// Places and their messages are the YAML toolkit's (common/yaml/place.h).
using yaml::Located;
using yaml::Place;

// A value as the user wrote it, and where.
struct Origin {
  Place place;
  std::string text;
};

class Origins {
 public:
  void Record(const std::string& path, Origin origin);
  // Null when the value is the default.
  const Origin* Find(std::string_view path) const;
  Place PlaceOf(std::string_view path) const;

  // A reference to one value for messages that name two places:
  //   `model.heads` = 3 at job.yaml:7:40
  //   `model.heads` = 3 (--set `model.heads=3`)
  //   `model.d_model` = 128 (default)
  // `current` is the value's text when it is the default.
  std::string Ref(std::string_view path, std::string_view current) const;

 private:
  std::map<std::string, Origin, std::less<>> by_path_;
};

}  // namespace dstrain::config::internal
