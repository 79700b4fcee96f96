#include "common/yaml/document.h"

#include <yaml-cpp/yaml.h>

#include "common/yaml/describe.h"
#include "common/yaml/parse.h"

namespace dstrain::yaml {

StatusOr<YAML::Node> ReadMapping(std::string_view text, const Locator& file,
                                 const DocumentRules& rules) {
  YAML::Node doc;
  if (std::optional<ParseError> e =
          Parse(text, rules.what, rules.limits, &doc)) {
    if (e->kind == ParseError::Kind::kSecondDocument &&
        rules.second_document_at == SecondDocumentAt::kContent &&
        !e->content_mark.is_null()) {
      e->mark = e->content_mark;
    }
    return InvalidArgument(e->InFile(file));
  }
  if (!doc.IsDefined() || doc.IsNull()) {
    return InvalidArgument(file.display() + " is empty: " + rules.empty_hint);
  }
  if (!doc.IsMap()) {
    return InvalidArgument(
        Located(file.PlaceOf(doc.Mark()), "document",
                ": expected " + rules.mapping_hint + ", got " + Describe(doc)));
  }
  return doc;
}

}  // namespace dstrain::yaml
