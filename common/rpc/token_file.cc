#include "common/rpc/token_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "common/fd_io.h"
#include "common/rpc/auth.h"
#include "common/strings.h"
#include "common/unique_fd.h"

namespace dstrain::rpc {
namespace {

// A token is at most 4096 characters; a longer first line is refused by
// ValidateToken, so reading more than this is never needed.
constexpr std::size_t kMaxTokenFileRead = 8192;

std::string Where(std::string_view flag, const std::string& path) {
  return std::string(flag) + " " + path;
}

std::string HowToMakeOne(const std::string& path) {
  return "create one with `dstrain coordinator --generate-token " + path +
         "` (or `(umask 077; openssl rand -hex 32 > " + path + ")`)";
}

}  // namespace

StatusOr<std::string> ReadTokenFile(const std::string& path,
                                    std::string_view flag) {
  if (path.empty()) {
    return InvalidArgument(std::string(flag) + ": the path is empty");
  }
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK));
  if (!fd.valid()) {
    const int err = errno;
    if (err == ENOENT) {
      return NotFound(Where(flag, path) + ": no such file; " +
                      HowToMakeOne(path));
    }
    return InvalidArgument(Where(flag, path) +
                           ": cannot read it: " + std::strerror(err));
  }
  struct stat st;
  if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) {
    return InvalidArgument(Where(flag, path) +
                           ": not a regular file; it must hold the token");
  }
  if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
    return InvalidArgument(StrFormat(
        "%s: permissions %04o let other users read or change the cluster "
        "token; run `chmod 600 %s`",
        Where(flag, path).c_str(), static_cast<unsigned>(st.st_mode & 07777),
        path.c_str()));
  }
  std::string text;
  if (const int err = ReadUpTo(fd.get(), kMaxTokenFileRead, &text)) {
    return InvalidArgument(Where(flag, path) +
                           ": cannot read it: " + std::strerror(err));
  }
  std::string_view first_line(text);
  first_line = first_line.substr(0, first_line.find('\n'));
  first_line = Trim(first_line);
  if (first_line.empty()) {
    return InvalidArgument(Where(flag, path) +
                           ": the file is empty; put the token on its first "
                           "line, or " +
                           HowToMakeOne(path));
  }
  DSTRAIN_RETURN_IF_ERROR(ValidateToken(first_line, Where(flag, path) + ":1"));
  return std::string(first_line);
}

StatusOr<std::string> CreateTokenFile(const std::string& path,
                                      std::string_view flag) {
  if (path.empty()) {
    return InvalidArgument(std::string(flag) + ": the path is empty");
  }
  DSTRAIN_ASSIGN_OR_RETURN(std::string token, GenerateToken());
  UniqueFd fd(::open(path.c_str(),
                     O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
                     0600));
  if (!fd.valid()) {
    const int err = errno;
    if (err == EEXIST) {
      return Status(StatusCode::kAlreadyExists,
                    Where(flag, path) +
                        ": the file exists; use `--token-file " + path +
                        "` to keep its token, or remove it first");
    }
    return InvalidArgument(Where(flag, path) +
                           ": cannot create it: " + std::strerror(err));
  }
  // The umask may have cleared bits but never adds any; make it exactly 0600.
  ::fchmod(fd.get(), 0600);
  if (const int err = WriteAll(fd.get(), token + "\n")) {
    ::unlink(path.c_str());
    return Internal(Where(flag, path) +
                    ": cannot write it: " + std::strerror(err));
  }
  if (::fsync(fd.get()) != 0) {
    const int err = errno;
    ::unlink(path.c_str());
    return Internal(Where(flag, path) +
                    ": cannot sync it: " + std::strerror(err));
  }
  return token;
}

StatusOr<std::string> ResolveClusterToken(const std::string& token_file,
                                          std::string_view flag) {
  if (!token_file.empty()) return ReadTokenFile(token_file, flag);
  const char* env = std::getenv(kTokenEnvironmentVariable);
  if (env != nullptr && *env != '\0') {
    std::string token(Trim(env));
    DSTRAIN_RETURN_IF_ERROR(ValidateToken(token, kTokenEnvironmentVariable));
    return token;
  }
  return InvalidArgument("no cluster token: pass " + std::string(flag) +
                         " PATH (a file with mode 0600 holding the token) or "
                         "set " +
                         kTokenEnvironmentVariable);
}

}  // namespace dstrain::rpc
