#include "common/fd_line_writer.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace dstrain {

StatusOr<FdLineWriter> FdLineWriter::Open(int fd) {
  const int flags = ::fcntl(fd, F_GETFL);
  if (fd < 0 || flags < 0) {
    return InvalidArgument("metrics fd " + std::to_string(fd) + " is not open");
  }
  if ((flags & O_ACCMODE) == O_RDONLY) {
    return InvalidArgument("metrics fd " + std::to_string(fd) +
                           " is not open for writing");
  }
  return FdLineWriter(fd);
}

Status FdLineWriter::Write(const std::string& line) {
  std::size_t done = 0;
  while (done < line.size()) {
    const ssize_t n = ::write(fd_, line.data() + done, line.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      return Unavailable("writing metrics to fd " + std::to_string(fd_) + ": " +
                         std::strerror(errno));
    }
    done += static_cast<std::size_t>(n);
  }
  return Status::Ok();
}

}  // namespace dstrain
