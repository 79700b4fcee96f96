#include "common/read_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>

#include "common/fd_io.h"
#include "common/unique_fd.h"
#include "common/units.h"

namespace dstrain {
namespace {

std::string Reason(int err) {
  switch (err) {
    case ENOENT:
      return "no such file";
    case EACCES:
      return "permission denied";
    case ENOTDIR:
      return "a part of the path is not a folder";
    default: {
      std::string s = std::strerror(err);
      if (!s.empty()) s[0] = static_cast<char>(std::tolower(s[0]));
      return s;
    }
  }
}

}  // namespace

StatusOr<std::string> ReadConfigFile(const std::string& path,
                                     std::size_t max_bytes,
                                     std::string_view what) {
  const std::string where =
      "cannot read " + std::string(what) + " `" + path + "`";
  // O_NONBLOCK: opening a FIFO must not wait for a writer.
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK));
  if (!fd.valid()) {
    const int err = errno;
    Status s(
        err == ENOENT ? StatusCode::kNotFound : StatusCode::kInvalidArgument,
        where + ": " + Reason(err));
    return s;
  }
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) {
    return InvalidArgument(where + ": " + Reason(errno));
  }
  if (S_ISDIR(st.st_mode)) return InvalidArgument(where + ": it is a folder");
  if (!S_ISREG(st.st_mode)) {
    return InvalidArgument(where + ": not a regular file");
  }
  const std::string too_large =
      where + ": larger than " +
      ApproxBinaryBytes(static_cast<std::int64_t>(max_bytes)) +
      "; is this the right file?";
  if (static_cast<std::size_t>(st.st_size) > max_bytes) {
    return InvalidArgument(too_large);
  }
  // One byte past the limit is enough to refuse a file that grew.
  std::string text;
  text.reserve(static_cast<std::size_t>(st.st_size));
  if (const int err = ReadUpTo(fd.get(), max_bytes + 1, &text)) {
    return InvalidArgument(where + ": " + Reason(err));
  }
  if (text.size() > max_bytes) return InvalidArgument(too_large);
  return text;
}

}  // namespace dstrain
