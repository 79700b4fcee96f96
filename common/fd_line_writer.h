#pragma once
// Writes whole lines to an inherited file descriptor (the worker's metrics fd,
// the pipe the agent reads metrics from). Each Write is one write() loop of
// the full line, so concurrent readers never see a torn line from a line of
// at most PIPE_BUF bytes. Not thread-safe: one writer thread. The fd is not
// closed by this object (the process owns it).

#include <string>

#include "common/status.h"

namespace dstrain {

class FdLineWriter {
 public:
  // Checks that `fd` is open for writing.
  static StatusOr<FdLineWriter> Open(int fd);

  Status Write(const std::string& line);

 private:
  explicit FdLineWriter(int fd) : fd_(fd) {}
  int fd_;
};

}  // namespace dstrain
