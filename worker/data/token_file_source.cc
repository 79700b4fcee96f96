#include "worker/data/token_file_source.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <optional>

#include "common/glob_files.h"
#include "common/read_file.h"
#include "worker/data/read_at.h"
#include "worker/data/sidecar.h"
#include "worker/data/stream_pieces.h"
#include "worker/data/widen_ids.h"

namespace dstrain::data {
namespace {

namespace fs = std::filesystem;

// The shard's sidecar, if it has one.
StatusOr<std::optional<Sidecar>> ReadSidecar(const std::string& file) {
  const std::string path = file + ".json";
  std::error_code ec;
  if (!fs::exists(path, ec)) return std::optional<Sidecar>();
  DSTRAIN_ASSIGN_OR_RETURN(
      std::string text, ReadConfigFile(path, 64 * 1024, "token file sidecar"));
  DSTRAIN_ASSIGN_OR_RETURN(Sidecar s, ParseSidecar(text, path));
  return std::optional<Sidecar>(s);
}

}  // namespace

std::vector<std::string> TokenFilesOf(const std::string& path) {
  std::error_code ec;
  if (!IsGlobPattern(path) && fs::is_directory(path, ec)) {
    return GlobFiles((fs::path(path) / "*.bin").string());
  }
  return GlobFiles(path);
}

StatusOr<std::unique_ptr<TokenFileSource>> TokenFileSource::Open(
    const TokenFileOptions& o) {
  std::unique_ptr<TokenFileSource> src(new TokenFileSource());
  src->files_ = TokenFilesOf(o.path);
  if (src->files_.empty()) {
    return InvalidArgument("data.path " + o.path +
                           ": no token file (a .bin file, a glob of them or "
                           "a folder holding them)");
  }
  std::string dtype;
  for (const std::string& f : src->files_) {
    DSTRAIN_ASSIGN_OR_RETURN(std::optional<Sidecar> side, ReadSidecar(f));
    std::string d = side.has_value() ? side->dtype : "";
    if (o.dtype != "auto") {
      if (!d.empty() && d != o.dtype) {
        return InvalidArgument(f + ": data.dtype is " + o.dtype + " but " + f +
                               ".json says " + d +
                               "; remove data.dtype or fix the sidecar");
      }
      d = o.dtype;
    }
    if (d.empty()) {
      return InvalidArgument(f + ": no sidecar " + f +
                             ".json says its dtype; set data.dtype: uint16 "
                             "or uint32 (`dstrain data prepare` writes one)");
    }
    if (!dtype.empty() && d != dtype) {
      return InvalidArgument(f + ": dtype " + d + " differs from " +
                             src->files_.front() + "'s " + dtype +
                             "; every shard must have one dtype");
    }
    dtype = d;
    const int elem = DtypeBytes(d);
    if (side.has_value() && o.vocab > 0 && side->vocab > o.vocab) {
      return InvalidArgument(
          f + ".json: vocabulary " + std::to_string(side->vocab) +
          " is larger than model.vocab " + std::to_string(o.vocab) +
          "; set model.vocab to at least it");
    }
    const int fd = open(f.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      return InvalidArgument(f + ": cannot open: " + std::strerror(errno));
    }
    struct stat st {};
    fstat(fd, &st);
    const auto bytes = static_cast<std::size_t>(st.st_size);
    if (bytes % static_cast<std::size_t>(elem) != 0) {
      close(fd);
      return InvalidArgument(f + ": " + std::to_string(bytes) +
                             " bytes is not a whole number of " + d +
                             " tokens (truncated, or not " + d + ")");
    }
    const auto tokens = static_cast<std::int64_t>(bytes) / elem;
    if (side.has_value() && side->tokens >= 0 && side->tokens != tokens) {
      close(fd);
      return InvalidArgument(
          f + " is truncated: " + f + ".json says " +
          std::to_string(side->tokens) + " tokens, the file holds " +
          std::to_string(tokens) + " (" + std::to_string(bytes) +
          " bytes); rewrite it with `dstrain data prepare`");
    }
    Shard s;
    s.path = f;
    s.bytes = bytes;
    s.tokens = tokens;
    s.first = src->total_;
    // Many shards are opened per read instead of held (the descriptor
    // limit); a few are held for the job.
    if (src->files_.size() <= kHeldOpen) {
      s.fd = fd;
    } else {
      close(fd);
    }
    src->total_ += tokens;
    src->shards_.push_back(s);
  }
  src->dtype_bytes_ = DtypeBytes(dtype);
  return src;
}

TokenFileSource::~TokenFileSource() {
  for (const Shard& s : shards_) {
    if (s.fd >= 0) close(s.fd);
  }
}

const std::vector<std::string>& TokenFileSource::files() const {
  return files_;
}

template <typename T>
Status TokenFileSource::Copy(std::int64_t begin, std::int64_t count, T* out) {
  // Per thread: the block cache's readers call this at once.
  thread_local std::vector<unsigned char> raw;
  return ForEachPiece(
      shards_, total_, "the token files", begin, count,
      [&](std::size_t i, std::int64_t local, std::int64_t n) -> Status {
        const Shard& s = shards_[i];
        int fd = s.fd;
        if (fd < 0) {
          fd = open(s.path.c_str(), O_RDONLY | O_CLOEXEC);
          if (fd < 0) {
            return Unavailable(s.path +
                               ": cannot open: " + std::strerror(errno));
          }
        }
        raw.resize(static_cast<std::size_t>(n * dtype_bytes_));
        Status read =
            ReadAt(fd, local * dtype_bytes_, raw.size(), raw.data(), s.path);
        if (fd != s.fd) close(fd);
        DSTRAIN_RETURN_IF_ERROR(read);
        WidenIds(raw.data(), n, static_cast<std::size_t>(dtype_bytes_),
                 /*is_signed=*/false, out);
        out += n;
        return Status::Ok();
      });
}

Status TokenFileSource::Read(std::int64_t begin, std::int64_t count,
                             std::int64_t* out) {
  return Copy(begin, count, out);
}

Status TokenFileSource::ReadIds(std::int64_t begin, std::int64_t count,
                                std::int32_t* out) {
  return Copy(begin, count, out);
}

void TokenFileSource::WillNeed(std::int64_t begin, std::int64_t count) {
  begin = std::max<std::int64_t>(0, begin);
  count = std::min(count, total_ - begin);
  (void)ForEachPiece(shards_, total_, "the token files", begin, count,
                     [&](std::size_t i, std::int64_t local, std::int64_t n) {
                       if (shards_[i].fd >= 0) {
                         posix_fadvise(shards_[i].fd, local * dtype_bytes_,
                                       n * dtype_bytes_, POSIX_FADV_WILLNEED);
                       }
                       return Status::Ok();
                     });
}

std::string TokenFileSource::Locate(std::int64_t position) const {
  if (shards_.empty()) return "the token files";
  const Shard& s = shards_[PieceAt(shards_, position)];
  return s.path + " at token " + std::to_string(position - s.first);
}

}  // namespace dstrain::data
