#pragma once
// The checks a YAML text passes before any parser sees it: it is no
// larger than Limits::max_bytes, and it is UTF-8 text: no NUL or other
// control character (tab, line feed and carriage return aside) and no
// malformed UTF-8 sequence, so binary junk is refused with its position
// instead of being read as odd scalars.
//
// `what` names the text in messages ("a job file"). Returns the first
// problem, or nothing. Pure; thread-safe.

#include <optional>
#include <string_view>

#include "common/yaml/limits.h"
#include "common/yaml/parse_error.h"

namespace dstrain::yaml {

std::optional<ParseError> CheckText(std::string_view text,
                                    std::string_view what,
                                    const Limits& limits);

// The 0-based mark of byte `offset` of `text`, as yaml-cpp would give it
// (line breaks are `\n`; columns count bytes).
YAML::Mark MarkAt(std::string_view text, std::size_t offset);

}  // namespace dstrain::yaml
