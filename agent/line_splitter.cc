#include "agent/line_splitter.h"

namespace dstrain::agent {

void LineSplitter::Emit(std::string_view line, const LineFn& on_line) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  on_line(line);
}

void LineSplitter::Feed(std::string_view bytes, const LineFn& on_line) {
  while (!bytes.empty()) {
    std::size_t nl = bytes.find('\n');
    std::size_t room = max_line_ - partial_.size();
    if (nl == std::string_view::npos || nl > room) {
      // No newline within what fits: buffer, cutting at max_line_.
      std::size_t take = std::min(bytes.size(), room);
      partial_.append(bytes.substr(0, take));
      bytes.remove_prefix(take);
      if (partial_.size() >= max_line_) {
        Emit(partial_, on_line);
        partial_.clear();
      }
      continue;
    }
    if (partial_.empty()) {
      Emit(bytes.substr(0, nl), on_line);
    } else {
      partial_.append(bytes.substr(0, nl));
      Emit(partial_, on_line);
      partial_.clear();
    }
    bytes.remove_prefix(nl + 1);
  }
}

void LineSplitter::Finish(const LineFn& on_line) {
  if (partial_.empty()) return;
  Emit(partial_, on_line);
  partial_.clear();
}

}  // namespace dstrain::agent
