#include "common/fd_io.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>

namespace dstrain {

int WriteAll(int fd, std::string_view data) {
  std::size_t put = 0;
  while (put < data.size()) {
    const ssize_t n = ::write(fd, data.data() + put, data.size() - put);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errno;
    if (n == 0) return EIO;
    put += static_cast<std::size_t>(n);
  }
  return 0;
}

int ReadUpTo(int fd, std::size_t max_bytes, std::string* out) {
  const std::size_t start = out->size();
  char buf[64 * 1024];
  while (out->size() - start < max_bytes) {
    const std::size_t want =
        std::min(sizeof(buf), max_bytes - (out->size() - start));
    const ssize_t n = ::read(fd, buf, want);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errno;
    if (n == 0) break;
    out->append(buf, static_cast<std::size_t>(n));
  }
  return 0;
}

}  // namespace dstrain
