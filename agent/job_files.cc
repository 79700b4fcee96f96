#include "agent/job_files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "common/fd_io.h"
#include "common/unique_fd.h"

namespace dstrain::agent {

StatusOr<std::unique_ptr<JobFiles>> JobFiles::Create() {
  const char* tmp = std::getenv("TMPDIR");
  std::string tmpl =
      std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") +
      "/dstrain-agent-XXXXXX";
  if (::mkdtemp(tmpl.data()) == nullptr) {
    return Internal("agent: cannot make a folder for job files (" + tmpl +
                    "): " + std::strerror(errno));
  }
  return std::unique_ptr<JobFiles>(new JobFiles(tmpl));
}

JobFiles::~JobFiles() {
  // POSIX calls rather than std::filesystem::remove_all, which the
  // libtorch linked into this executable interposes with a broken copy.
  std::lock_guard<std::mutex> lock(mu_);
  for (const std::string& f : files_) ::unlink(f.c_str());
  ::rmdir(dir_.c_str());
}

std::string JobFiles::PathOf(const std::string& job_id, int attempt) const {
  // Job ids are the coordinator's ("j-12"); keep only safe characters.
  std::string safe;
  for (char c : job_id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                    (c >= '0' && c <= '9') || c == '-' || c == '_';
    safe.push_back(ok ? c : '_');
  }
  return dir_ + "/" + safe + ".a" + std::to_string(attempt) + ".yaml";
}

StatusOr<std::string> JobFiles::Write(const std::string& job_id, int attempt,
                                      const std::string& text) {
  const std::string path = PathOf(job_id, attempt);
  const std::string tmp = path + ".tmp";
  {
    UniqueFd fd(
        ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
    if (!fd.valid()) {
      return Internal("agent: cannot write the job file " + tmp + ": " +
                      std::strerror(errno));
    }
    if (const int err = WriteAll(fd.get(), text)) {
      ::unlink(tmp.c_str());
      return Internal("agent: cannot write the job file " + tmp + ": " +
                      std::strerror(err));
    }
    if (fd.Close() != 0) {
      ::unlink(tmp.c_str());
      return Internal("agent: cannot write the job file " + tmp);
    }
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    return Internal("agent: cannot write the job file " + path + ": " +
                    std::strerror(err));
  }
  std::lock_guard<std::mutex> lock(mu_);
  files_.insert(path);
  return path;
}

void JobFiles::Remove(const std::string& job_id, int attempt) {
  const std::string path = PathOf(job_id, attempt);
  std::lock_guard<std::mutex> lock(mu_);
  if (files_.erase(path) > 0) ::unlink(path.c_str());
}

}  // namespace dstrain::agent
