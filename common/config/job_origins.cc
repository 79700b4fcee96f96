#include "common/config/job_origins.h"

#include <cstdio>

namespace dstrain::config::internal {

std::string Located(const Place& place, std::string_view subject,
                    std::string_view rest) {
  std::string out;
  switch (place.kind) {
    case Place::Kind::kFile:
      out.append(subject).append(" at ").append(place.text).append(rest);
      break;
    case Place::Kind::kOverride:
      out.append("--set ")
          .append(Quoted(place.text))
          .append(": ")
          .append(subject)
          .append(rest);
      break;
    case Place::Kind::kNone:
      out.append(subject).append(rest);
      break;
  }
  return out;
}

std::string Quoted(std::string_view text) {
  std::string out = "`";
  for (char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (u < 0x20 || u == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\x%02x", u);
      out += buf;
    } else {
      out += c;
    }
  }
  out += "`";
  return out;
}

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
      out.append(" (--set ").append(Quoted(o->place.text)).append(")");
      break;
    case Place::Kind::kNone:
      break;
  }
  return out;
}

}  // namespace dstrain::config::internal
