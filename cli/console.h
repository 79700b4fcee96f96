#pragma once
// Where `dstrain launch` writes for people: relayed worker lines, its own
// notes, one live progress line and the summary, on one stream.
//
// On a terminal the progress line is redrawn in place (\r, erase line) and
// cut to the terminal's width so it never wraps; a log line clears it,
// prints, and redraws it, so logs scroll above a progress line that stays at
// the bottom. Elsewhere (a pipe, a file) progress lines are plain lines and
// the caller decides how often to print them (PlainProgressPacer).
// Thread-safe: worker lines arrive on the agent's thread.

#include <cstdio>
#include <mutex>
#include <string>

namespace dstrain::cli {

class Console {
 public:
  // `show_logs` false drops Log lines (--quiet); Note and Summary still print.
  Console(std::FILE* out, bool tty, bool show_logs);

  bool tty() const { return tty_; }

  void Log(const std::string& line);   // a relayed worker line
  void Note(const std::string& line);  // dstrain's own message
  void Progress(const std::string& line);
  // Ends the live line (terminal): it stays as an ordinary line.
  void EndProgress();
  void Print(const std::string& text);  // verbatim, after EndProgress

 private:
  void WriteLineLocked(const std::string& line);
  int WidthLocked() const;

  std::FILE* const out_;
  const bool tty_;
  const bool show_logs_;
  std::mutex mu_;
  std::string progress_;  // guarded by mu_: the line drawn at the bottom
};

}  // namespace dstrain::cli
