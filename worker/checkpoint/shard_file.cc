#include "worker/checkpoint/shard_file.h"

#include <fcntl.h>
#include <ftw.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

namespace dstrain::checkpoint {
namespace {

constexpr char kMagic[8] = {'D', 'S', 'T', 'S', 'H', 'R', 'D', '1'};

Status Errno(const std::string& what, const std::string& path) {
  return Internal(what + " " + path + ": " + std::strerror(errno));
}

Status WriteAll(int fd, const void* data, std::int64_t bytes,
                const std::string& path) {
  const char* p = static_cast<const char*>(data);
  while (bytes > 0) {
    const ssize_t n = ::write(fd, p, static_cast<std::size_t>(bytes));
    if (n < 0) {
      if (errno == EINTR) continue;
      return Errno("cannot write", path);
    }
    p += n;
    bytes -= n;
  }
  return Status::Ok();
}

}  // namespace

std::int64_t TensorOffset(const std::vector<std::int64_t>& shard_numels,
                          std::int64_t rng_bytes, int unit, ShardTensor which) {
  std::int64_t off = kShardHeaderBytes + rng_bytes;
  for (int u = 0; u < unit; ++u) off += 3 * 4 * shard_numels[u];
  return off + static_cast<int>(which) * 4 * shard_numels[unit];
}

std::int64_t ShardFileBytes(const std::vector<std::int64_t>& shard_numels,
                            std::int64_t rng_bytes) {
  std::int64_t off = kShardHeaderBytes + rng_bytes;
  for (std::int64_t n : shard_numels) off += 3 * 4 * n;
  return off;
}

// ---- writer ------------------------------------------------------------

StatusOr<ShardWriter> ShardWriter::Create(const std::string& path, int rank,
                                          int world, const std::string& rng) {
  const int fd =
      ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Errno("cannot create", path);
  ShardWriter w(fd, path);
  char header[kShardHeaderBytes];
  const std::int32_t r = rank, n = world;
  const std::int64_t len = static_cast<std::int64_t>(rng.size());
  std::memcpy(header, kMagic, 8);
  std::memcpy(header + 8, &r, 4);
  std::memcpy(header + 12, &n, 4);
  std::memcpy(header + 16, &len, 8);
  DSTRAIN_RETURN_IF_ERROR(w.Append(header, kShardHeaderBytes));
  DSTRAIN_RETURN_IF_ERROR(w.Append(rng.data(), len));
  return w;
}

Status ShardWriter::Append(const void* data, std::int64_t bytes) {
  if (!fd_.valid()) return FailedPrecondition("shard " + path_ + " is closed");
  DSTRAIN_RETURN_IF_ERROR(WriteAll(fd_.get(), data, bytes, path_));
  crc_.Update(data, static_cast<std::size_t>(bytes));
  bytes_ += bytes;
  return Status::Ok();
}

Status ShardWriter::Finish() {
  if (!fd_.valid()) return FailedPrecondition("shard " + path_ + " is closed");
  UniqueFd fd = std::move(fd_);  // closed whichever way this ends
  if (::fsync(fd.get()) != 0) return Errno("cannot sync", path_);
  if (fd.Close() != 0) return Errno("cannot close", path_);
  return Status::Ok();
}

// ---- reader ------------------------------------------------------------

StatusOr<ShardReader> ShardReader::Open(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Errno("cannot open", path);
  return ShardReader(fd, path);
}

Status ShardReader::ReadAt(std::int64_t offset, void* out,
                           std::int64_t bytes) const {
  char* p = static_cast<char*>(out);
  while (bytes > 0) {
    const ssize_t n =
        ::pread(fd_.get(), p, static_cast<std::size_t>(bytes), offset);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Errno("cannot read", path_);
    }
    if (n == 0) {
      return Internal(path_ + " is truncated: it ends at byte " +
                      std::to_string(offset) + ", " + std::to_string(bytes) +
                      " bytes short");
    }
    p += n;
    offset += n;
    bytes -= n;
  }
  return Status::Ok();
}

Status ShardReader::CheckHeader(int rank, int world,
                                std::int64_t rng_bytes) const {
  char header[kShardHeaderBytes];
  DSTRAIN_RETURN_IF_ERROR(ReadAt(0, header, kShardHeaderBytes));
  std::int32_t r = 0, n = 0;
  std::int64_t len = 0;
  std::memcpy(&r, header + 8, 4);
  std::memcpy(&n, header + 12, 4);
  std::memcpy(&len, header + 16, 8);
  if (std::memcmp(header, kMagic, 8) != 0 || r != rank || n != world ||
      len != rng_bytes) {
    return Internal(path_ + ": the header does not match the manifest (rank " +
                    std::to_string(rank) + " of " + std::to_string(world) +
                    ")");
  }
  return Status::Ok();
}

StatusOr<std::string> ShardReader::ReadRng(std::int64_t rng_bytes) const {
  std::string rng(static_cast<std::size_t>(rng_bytes), '\0');
  DSTRAIN_RETURN_IF_ERROR(ReadAt(kShardHeaderBytes, rng.data(), rng_bytes));
  return rng;
}

Status VerifyFile(const std::string& path, std::int64_t bytes,
                  std::uint32_t crc32c) {
  const UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return Errno("cannot open", path);
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return Errno("cannot stat", path);
  if (st.st_size != bytes) {
    return Internal(path + " is " +
                    std::string(st.st_size < bytes ? "truncated" : "too long") +
                    ": " + std::to_string(st.st_size) +
                    " bytes, the manifest says " + std::to_string(bytes));
  }
  Crc32c crc;
  std::vector<char> buf(1 << 20);
  while (true) {
    const ssize_t n = ::read(fd.get(), buf.data(), buf.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return Errno("cannot read", path);
    }
    if (n == 0) break;
    crc.Update(buf.data(), static_cast<std::size_t>(n));
  }
  if (crc.value() != crc32c) {
    return Internal(path + " is corrupted: checksum mismatch (CRC-32C " +
                    Crc32cHex(crc.value()) + ", the manifest says " +
                    Crc32cHex(crc32c) + ")");
  }
  return Status::Ok();
}

Status WriteFileSynced(const std::string& path, const std::string& text) {
  UniqueFd fd(
      ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  if (!fd.valid()) return Errno("cannot create", path);
  Status s = WriteAll(fd.get(), text.data(),
                      static_cast<std::int64_t>(text.size()), path);
  if (s.ok() && ::fsync(fd.get()) != 0) s = Errno("cannot sync", path);
  if (fd.Close() != 0 && s.ok()) s = Errno("cannot close", path);
  return s;
}

Status SyncDirectory(const std::string& path) {
  const UniqueFd fd(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd.valid()) return Errno("cannot open", path);
  if (::fsync(fd.get()) != 0) return Errno("cannot sync", path);
  return Status::Ok();
}

namespace {

int RemoveEntry(const char* path, const struct stat*, int, struct FTW*) {
  return ::remove(path) == 0 || errno == ENOENT ? 0 : -1;
}

}  // namespace

Status RemoveTree(const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) {
    return errno == ENOENT ? Status::Ok() : Errno("cannot remove", path);
  }
  if (::nftw(path.c_str(), RemoveEntry, 16, FTW_DEPTH | FTW_PHYS) != 0) {
    return Errno("cannot remove", path);
  }
  return Status::Ok();
}

}  // namespace dstrain::checkpoint
