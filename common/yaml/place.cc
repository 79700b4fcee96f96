#include "common/yaml/place.h"

#include "common/yaml/text.h"

namespace dstrain::yaml {

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

Locator::Locator(std::string_view display) : display_(OneLine(display)) {}

std::string Locator::At(const YAML::Mark& m) const {
  return display_ + ":" + std::to_string(m.line + 1) + ":" +
         std::to_string(m.column + 1);
}

Place Locator::PlaceOf(const YAML::Mark& m) const {
  if (m.is_null()) return Place{};
  return Place{Place::Kind::kFile, At(m)};
}

}  // namespace dstrain::yaml
