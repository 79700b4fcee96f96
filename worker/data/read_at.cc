#include "worker/data/read_at.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace dstrain::data {

Status ReadAt(int fd, std::int64_t offset, std::size_t bytes, void* out,
              const std::string& file) {
  auto* p = static_cast<unsigned char*>(out);
  std::size_t done = 0;
  while (done < bytes) {
    const ssize_t k =
        ::pread(fd, p + done, bytes - done,
                static_cast<off_t>(offset) + static_cast<off_t>(done));
    if (k < 0 && errno == EINTR) continue;
    if (k < 0) {
      return Unavailable(file + ": cannot read " + std::to_string(bytes) +
                         " bytes at byte offset " + std::to_string(offset) +
                         ": " + std::strerror(errno));
    }
    if (k == 0) {
      struct stat st {};
      fstat(fd, &st);
      return InvalidArgument(
          file + ": ends at byte " + std::to_string(st.st_size) +
          ", before the " + std::to_string(bytes) + " bytes at byte offset " +
          std::to_string(offset) +
          " (cut short since the job opened it; rewrite it and resume)");
    }
    done += static_cast<std::size_t>(k);
  }
  return Status::Ok();
}

}  // namespace dstrain::data
