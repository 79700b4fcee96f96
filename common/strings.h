#pragma once
// Small text helpers every part of dstrain shares: strict number parsing
// (the whole text must be the number), trimming, splitting and joining.
// Pure functions; thread-safe.

#include <charconv>
#include <cmath>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <vector>

namespace dstrain {

// `text` as an integer of type T, or nullopt when it is not exactly one
// (empty, trailing junk, out of T's range). A leading '+' is accepted;
// a leading '-' only for signed T.
template <typename T>
std::optional<T> ParseInteger(std::string_view text) {
  static_assert(std::is_integral_v<T>);
  if (!text.empty() && text[0] == '+') text.remove_prefix(1);
  if (text.empty() || text[0] == '+') return std::nullopt;
  T value{};
  const auto [end, ec] =
      std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) {
    return std::nullopt;
  }
  return value;
}

// `text` as a finite double (a leading '+' accepted), or nullopt.
std::optional<double> ParseFiniteDouble(std::string_view text);

// `text` without leading and trailing spaces, tabs, CR and LF.
std::string_view Trim(std::string_view text);

// The pieces of `text` between `sep`s ("a,,b" gives "a", "", "b"; "" gives
// one empty piece).
std::vector<std::string_view> Split(std::string_view text, char sep);

// printf-style formatting into a std::string.
std::string StrFormat(const char* format, ...)
    __attribute__((format(printf, 1, 2)));

// The items with `sep` between them.
std::string Join(const std::vector<std::string>& items, std::string_view sep);

}  // namespace dstrain
