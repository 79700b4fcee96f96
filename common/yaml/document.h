#pragma once
// A strict loader's first step: one YAML file whose document must be a
// mapping. Parses `text` safely (parse.h) and words every problem for the
// file, on one line:
//   job.yaml is empty: <empty_hint>
//   document at job.yaml:2:1: expected <mapping_hint>, got a list of 2
//       items
// and the messages of parse_error.h (syntax errors, a second document,
// aliases, nesting, size, binary bytes).
//
// Returns INVALID_ARGUMENT with that message, or the mapping. Thread-safe;
// the nodes belong to the caller.

#include <yaml-cpp/node/node.h>

#include <string>
#include <string_view>

#include "common/status.h"
#include "common/yaml/limits.h"
#include "common/yaml/place.h"

namespace dstrain::yaml {

// Which position "second YAML document at ..." names. The two loaders
// have always differed here, and their messages stay as they were.
enum class SecondDocumentAt {
  kMarker,   // the `---` that starts it
  kContent,  // its first node
};

struct DocumentRules {
  // The kind of file, in messages: "a job file".
  std::string what;
  // After "<file> is empty: ".
  std::string empty_hint;
  // After "expected ", for a document that is not a mapping: "a mapping
  // of keys (`name`, `data`, ...)".
  std::string mapping_hint;
  SecondDocumentAt second_document_at = SecondDocumentAt::kMarker;
  Limits limits;
};

StatusOr<YAML::Node> ReadMapping(std::string_view text, const Locator& file,
                                 const DocumentRules& rules);

}  // namespace dstrain::yaml
