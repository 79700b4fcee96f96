#pragma once
// Pieces of one-line messages about user input: a text in backquotes with
// line breaks and other control characters escaped (so that a message
// stays on one line, whatever the input held), and a list joined with a
// separator. Pure functions; thread-safe.

#include <string>
#include <string_view>
#include <vector>

namespace dstrain::yaml {

// `text` with `\n`, `\t` and other control characters (below 0x20, and
// 0x7f) written as `\n`, `\t`, `\x1b`; other bytes as they are.
std::string OneLine(std::string_view text);

// OneLine(text) between backquotes: `abc`.
std::string Quoted(std::string_view text);

std::string Join(const std::vector<std::string>& items,
                 std::string_view separator);

}  // namespace dstrain::yaml
