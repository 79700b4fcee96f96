#include "common/config/job_origins.h"

#include "common/yaml/text.h"

namespace dstrain::config::internal {

void Origins::Record(const std::string& path, Origin origin) {
  by_path_[path] = std::move(origin);
}

const Origin* Origins::Find(std::string_view path) const {
  auto it = by_path_.find(path);
  return it == by_path_.end() ? nullptr : &it->second;
}

Place Origins::PlaceOf(std::string_view path) const {
  const Origin* o = Find(path);
  return o == nullptr ? Place{} : o->place;
}

std::string Origins::Ref(std::string_view path,
                         std::string_view current) const {
  std::string out = "`";
  out.append(path).append("` = ");
  const Origin* o = Find(path);
  if (o == nullptr) {
    out.append(current).append(" (default)");
    return out;
  }
  out.append(o->text);
  switch (o->place.kind) {
    case Place::Kind::kFile:
      out.append(" at ").append(o->place.text);
      break;
    case Place::Kind::kOverride:
      out.append(" (--set ").append(yaml::Quoted(o->place.text)).append(")");
      break;
    case Place::Kind::kNone:
      break;
  }
  return out;
}

}  // namespace dstrain::config::internal
