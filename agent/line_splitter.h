#pragma once
// Splits a byte stream (a worker's stdout, stderr or metrics pipe) into lines.
//
// Feed() takes whatever read() returned and hands every complete line,
// without its '\n' (and without a trailing '\r'), to the callback. A line
// longer than `max_line` is cut into pieces of that size so a worker that
// never writes a newline cannot make the agent buffer without bound.
// Finish() hands over a last unterminated line, if any. Not thread-safe: one
// splitter belongs to one pipe, read by one thread.

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

namespace dstrain::agent {

class LineSplitter {
 public:
  using LineFn = std::function<void(std::string_view line)>;

  explicit LineSplitter(std::size_t max_line = 64 * 1024)
      : max_line_(max_line) {}

  void Feed(std::string_view bytes, const LineFn& on_line);
  void Finish(const LineFn& on_line);

  // Bytes held back waiting for a newline.
  std::size_t pending() const { return partial_.size(); }

 private:
  void Emit(std::string_view line, const LineFn& on_line);

  std::size_t max_line_;
  std::string partial_;
};

}  // namespace dstrain::agent
