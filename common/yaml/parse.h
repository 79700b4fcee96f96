#pragma once
// Reading one YAML document from untrusted text, safely.
//
// yaml-cpp alone is not safe on hostile input: YAML::LoadAll never returns
// when a document stops at a token the parser cannot consume (a `,` outside
// [ ] or { }: `,a`, `[1],`), starting empty documents at the same place
// while memory grows; its parser recurses once per nesting level; and an
// alias shares a node, so `b: [*a, *a]` over `a: [*x, *x]`... makes a tree
// walk exponential. Parse therefore:
//   1. checks the bytes (text_check.h: size limit, UTF-8 text);
//   2. runs yaml-cpp's event parser over at most three documents, which
//      stops at the first alias, at the first collection deeper than
//      Limits::max_depth (so the parser's recursion stays that shallow),
//      and lets it see a stuck token (two documents starting at one
//      position) and a second document;
//   3. only then builds the one document's nodes (YAML::Load).
// Aliases are refused outright (anchors alone are harmless): the strict
// loaders' formats have no use for them, and a refusal cannot be slow.
// The nodes that come back form a tree no deeper than max_depth, so
// recursive walks over them are bounded.
//
// `what` names the text in messages ("a job file", "a --set value").
// Returns the problem, or nothing and the document in *out (a null node
// for an empty text). Thread-safe; the nodes belong to the caller.

#include <yaml-cpp/node/node.h>

#include <optional>
#include <string_view>

#include "common/yaml/limits.h"
#include "common/yaml/parse_error.h"

namespace dstrain::yaml {

std::optional<ParseError> Parse(std::string_view text, std::string_view what,
                                const Limits& limits, YAML::Node* out);

}  // namespace dstrain::yaml
