#include "cli/console.h"

#include <sys/ioctl.h>
#include <unistd.h>

namespace dstrain::cli {

namespace {
constexpr char kClearLine[] = "\r\033[K";
}

Console::Console(std::FILE* out, bool tty, bool show_logs)
    : out_(out), tty_(tty), show_logs_(show_logs) {}

int Console::WidthLocked() const {
  winsize ws{};
  if (ioctl(fileno(out_), TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) {
    return ws.ws_col;
  }
  return 80;
}

void Console::WriteLineLocked(const std::string& line) {
  if (tty_ && !progress_.empty()) std::fputs(kClearLine, out_);
  std::fputs(line.c_str(), out_);
  std::fputc('\n', out_);
  if (tty_ && !progress_.empty()) {
    std::fputs(progress_.c_str(), out_);
  }
  std::fflush(out_);
}

void Console::Log(const std::string& line) {
  if (!show_logs_) return;
  std::lock_guard<std::mutex> lock(mu_);
  WriteLineLocked(line);
}

void Console::Note(const std::string& line) {
  std::lock_guard<std::mutex> lock(mu_);
  WriteLineLocked(line);
}

void Console::Progress(const std::string& line) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!tty_) {
    std::fputs(line.c_str(), out_);
    std::fputc('\n', out_);
    std::fflush(out_);
    return;
  }
  std::size_t width = static_cast<std::size_t>(WidthLocked());
  progress_ = line.size() >= width ? line.substr(0, width - 1) : line;
  std::fputs(kClearLine, out_);
  std::fputs(progress_.c_str(), out_);
  std::fflush(out_);
}

void Console::EndProgress() {
  std::lock_guard<std::mutex> lock(mu_);
  // The last state stays on screen as an ordinary line.
  if (tty_ && !progress_.empty()) {
    std::fputc('\n', out_);
    std::fflush(out_);
  }
  progress_.clear();
}

void Console::Print(const std::string& text) {
  std::lock_guard<std::mutex> lock(mu_);
  std::fputs(text.c_str(), out_);
  std::fflush(out_);
}

}  // namespace dstrain::cli
