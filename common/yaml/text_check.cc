#include "common/yaml/text_check.h"

#include <cstdio>

namespace dstrain::yaml {
namespace {

// The length of the well-formed UTF-8 sequence at `s[i]`, or 0.
std::size_t Utf8Length(std::string_view s, std::size_t i) {
  const auto b = [&](std::size_t k) {
    return i + k < s.size() ? static_cast<unsigned char>(s[i + k]) : 0;
  };
  const unsigned char c = b(0);
  const auto cont = [&](std::size_t k) { return (b(k) & 0xC0) == 0x80; };
  if (c < 0x80) return 1;
  if (c >= 0xC2 && c <= 0xDF) return cont(1) ? 2 : 0;
  if (c >= 0xE0 && c <= 0xEF) {
    // No overlong forms (E0 80..9F) and no surrogates (ED A0..BF).
    if (c == 0xE0 && b(1) < 0xA0) return 0;
    if (c == 0xED && b(1) > 0x9F) return 0;
    return cont(1) && cont(2) ? 3 : 0;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    if (c == 0xF0 && b(1) < 0x90) return 0;
    if (c == 0xF4 && b(1) > 0x8F) return 0;
    return cont(1) && cont(2) && cont(3) ? 4 : 0;
  }
  return 0;
}

std::string Hex(unsigned char c) {
  char buf[8];
  std::snprintf(buf, sizeof(buf), "0x%02x", c);
  return buf;
}

}  // namespace

YAML::Mark MarkAt(std::string_view text, std::size_t offset) {
  YAML::Mark m;
  m.pos = static_cast<int>(offset);
  std::size_t line_start = 0;
  for (std::size_t i = 0; i < offset && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++m.line;
      line_start = i + 1;
    }
  }
  m.column = static_cast<int>(offset - line_start);
  return m;
}

std::optional<ParseError> CheckText(std::string_view text,
                                    std::string_view what,
                                    const Limits& limits) {
  if (text.size() > limits.max_bytes) {
    ParseError e;
    e.kind = ParseError::Kind::kTooLarge;
    e.what = what;
    e.size = text.size();
    e.limit = limits.max_bytes;
    return e;
  }
  for (std::size_t i = 0; i < text.size();) {
    const auto c = static_cast<unsigned char>(text[i]);
    const bool control =
        (c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7F;
    const std::size_t n = control ? 0 : Utf8Length(text, i);
    if (n == 0) {
      ParseError e;
      e.kind = ParseError::Kind::kNotText;
      e.mark = MarkAt(text, i);
      e.what = what;
      e.detail =
          (control ? "control character " : "invalid UTF-8 byte ") + Hex(c);
      return e;
    }
    i += n;
  }
  return std::nullopt;
}

}  // namespace dstrain::yaml
