// The data path: free space (statvfs) and a short sequential read that
// bypasses the page cache (O_DIRECT; where the file system refuses it, the
// file's cached pages are dropped with posix_fadvise first), of the largest
// file there or, when there is none of 64 MiB, of a file written for the
// test and removed after.
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>

#include "agent/doctor/checks.h"

namespace dstrain::agent::doctor {
namespace {

namespace fs = std::filesystem;

constexpr std::int64_t kBlock = std::int64_t{4} << 20;
constexpr std::int64_t kSmallest = std::int64_t{64} << 20;

std::string Gib(double bytes) {
  char b[32];
  std::snprintf(b, sizeof b, "%.1f GiB", bytes / (1 << 30));
  return b;
}

// The largest regular file at `path` or one level below it.
std::string LargestFile(const std::string& path, std::int64_t* size) {
  std::error_code ec;
  *size = 0;
  if (fs::is_regular_file(path, ec)) {
    *size = static_cast<std::int64_t>(fs::file_size(path, ec));
    return path;
  }
  std::string best;
  int seen = 0;
  for (fs::recursive_directory_iterator it(path, ec), end;
       !ec && it != end && seen < 2000; it.increment(ec), ++seen) {
    if (it.depth() > 1) {
      it.disable_recursion_pending();
      continue;
    }
    std::error_code e2;
    if (!it->is_regular_file(e2)) continue;
    const auto n = static_cast<std::int64_t>(it->file_size(e2));
    if (!e2 && n > *size) {
      *size = n;
      best = it->path().string();
    }
  }
  return best;
}

struct FreeBuffer {
  void operator()(void* p) const { std::free(p); }
};

// Writes kSmallest bytes to a new file in `dir`; "" when it cannot.
std::string WriteScratch(const std::string& dir, char* buf) {
  std::string path = dir + "/.dstrain-doctor-XXXXXX";
  const int fd = mkstemp(path.data());
  if (fd < 0) return "";
  for (std::int64_t i = 0; i < kBlock; ++i) buf[i] = static_cast<char>(i * 131);
  bool ok = true;
  for (std::int64_t done = 0; ok && done < kSmallest; done += kBlock) {
    ok = write(fd, buf, kBlock) == kBlock;
  }
  ok = ok && fsync(fd) == 0;
  close(fd);
  if (!ok) {
    unlink(path.c_str());
    return "";
  }
  return path;
}

struct ReadResult {
  std::int64_t bytes = 0;
  double seconds = 0;
  bool direct = false;
  std::string error;
};

ReadResult TimedRead(const std::string& path, char* buf,
                     const DoctorOptions& o) {
  ReadResult r;
  int fd = open(path.c_str(), O_RDONLY | O_DIRECT);
  r.direct = fd >= 0;
  if (fd < 0) {
    fd = open(path.c_str(), O_RDONLY);
    if (fd < 0) {
      r.error =
          std::string("cannot open ") + path + ": " + std::strerror(errno);
      return r;
    }
    fdatasync(fd);
    posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
  }
  const auto start = std::chrono::steady_clock::now();
  while (r.bytes < o.read_test_bytes) {
    const ssize_t n = read(fd, buf, kBlock);
    if (n <= 0) break;
    r.bytes += n;
    r.seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
            .count();
    if (r.seconds > o.read_test_max_s) break;
  }
  close(fd);
  return r;
}

}  // namespace

void CheckDisk(const DoctorOptions& o, Checks& out) {
  struct statvfs v {};
  if (statvfs(o.data_path.c_str(), &v) != 0) {
    Add(out, "disk", o.data_path,
        std::string("cannot stat: ") + std::strerror(errno), "warn",
        "the data path does not exist or is not readable");
    return;
  }
  const double free_b = static_cast<double>(v.f_bavail) * v.f_frsize;
  const double total_b = static_cast<double>(v.f_blocks) * v.f_frsize;
  const std::string space = Gib(free_b) + " free of " + Gib(total_b);
  if (free_b < 10.0 * (1 << 30) || free_b < 0.05 * total_b) {
    Add(out, "disk", o.data_path, space, "warn",
        "under 10 GiB or 5% free: checkpoints and logs may fail to write");
  } else {
    Add(out, "disk", o.data_path, space);
  }
  if (!o.read_test) return;

  std::unique_ptr<char, FreeBuffer> buf;
  {
    void* p = nullptr;
    if (posix_memalign(&p, 4096, kBlock) != 0) return;
    buf.reset(static_cast<char*>(p));
  }
  std::int64_t size = 0;
  std::string file = LargestFile(o.data_path, &size);
  std::string scratch;
  if (size < kSmallest) {
    std::error_code ec;
    const std::string dir = fs::is_directory(o.data_path, ec)
                                ? o.data_path
                                : fs::path(o.data_path).parent_path().string();
    scratch = WriteScratch(dir.empty() ? "." : dir, buf.get());
    if (!scratch.empty()) file = scratch;
  }
  if (file.empty()) {
    Add(out, "disk", "read test",
        "no file to read and the path is not writable", "warn",
        "cannot measure the data path's read speed");
    return;
  }
  const ReadResult r = TimedRead(file, buf.get(), o);
  if (!scratch.empty()) unlink(scratch.c_str());
  if (!r.error.empty() || r.seconds <= 0) {
    Add(out, "disk", "read test", r.error.empty() ? "nothing read" : r.error,
        "warn", "cannot measure the data path's read speed");
    return;
  }
  const double mbps = static_cast<double>(r.bytes) / r.seconds / 1e6;
  char found[256];
  std::snprintf(found, sizeof found,
                "%.0f MB/s sequential (%lld MiB of %s, %s)", mbps,
                static_cast<long long>(r.bytes >> 20),
                scratch.empty() ? file.c_str() : "a test file",
                r.direct ? "O_DIRECT" : "page cache dropped with fadvise");
  if (mbps < 200) {
    Add(out, "disk", "read test", found, "warn",
        "under 200 MB/s: data loading may starve the ranks; put the data on "
        "local NVMe or a parallel file system, or prefetch more");
  } else {
    Add(out, "disk", "read test", found);
  }
}

}  // namespace dstrain::agent::doctor
