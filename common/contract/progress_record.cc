#include "common/contract/progress_record.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>

namespace dstrain::contract {

namespace {

constexpr std::uint64_t kMagic = 0x3130'5247'5250'5344ULL;  // "DSPRGR01"
constexpr std::size_t kFileBytes = 512;
constexpr int kReadTries = 64;

// 15 bytes and a terminator in two words.
struct Text {
  std::atomic<std::uint64_t> w[2];
  void Set(std::string_view s) {
    char buf[16] = {};
    std::memcpy(buf, s.data(), std::min<std::size_t>(s.size(), 15));
    std::uint64_t a, b;
    std::memcpy(&a, buf, 8);
    std::memcpy(&b, buf + 8, 8);
    w[0].store(a, std::memory_order_relaxed);
    w[1].store(b, std::memory_order_relaxed);
  }
  std::string Get() const {
    char buf[17] = {};
    const std::uint64_t a = w[0].load(std::memory_order_relaxed);
    const std::uint64_t b = w[1].load(std::memory_order_relaxed);
    std::memcpy(buf, &a, 8);
    std::memcpy(buf + 8, &b, 8);
    return std::string(buf, strnlen(buf, 16));
  }
};

struct Slot {
  Text comm, op, dtype;
  std::atomic<std::int64_t> started_seq, completed_seq, numel;
};

std::int64_t NowUnixMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

StatusOr<void*> Map(const std::string& path, bool writable) {
  const int fd =
      ::open(path.c_str(), (writable ? O_RDWR : O_RDONLY) | O_CLOEXEC);
  if (fd < 0) {
    return NotFound("progress file " + path + ": " + std::strerror(errno));
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0 || st.st_size != static_cast<off_t>(kFileBytes)) {
    ::close(fd);
    return FailedPrecondition("progress file " + path + " is not " +
                              std::to_string(kFileBytes) +
                              " bytes: not made by CreateProgressFile");
  }
  void* p =
      ::mmap(nullptr, kFileBytes, writable ? PROT_READ | PROT_WRITE : PROT_READ,
             MAP_SHARED, fd, 0);
  ::close(fd);
  if (p == MAP_FAILED) {
    return Internal("progress file " + path +
                    ": mmap: " + std::strerror(errno));
  }
  return p;
}

}  // namespace

struct ProgressLayout {
  std::atomic<std::uint64_t> magic;
  std::atomic<std::uint64_t> version;  // odd while a write is under way
  std::atomic<std::int64_t> step;
  std::atomic<std::int64_t> updated_unix_us;
  std::atomic<std::int64_t> slots_used;
  Text phase;
  Slot slots[kProgressSlots];
};
static_assert(sizeof(ProgressLayout) <= kFileBytes);
static_assert(std::atomic<std::uint64_t>::is_always_lock_free);

Status CreateProgressFile(const std::string& path) {
  const int fd =
      ::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) {
    return Unavailable("cannot create progress file " + path + ": " +
                       std::strerror(errno));
  }
  char zeros[kFileBytes] = {};
  std::uint64_t magic = kMagic;
  std::memcpy(zeros, &magic, sizeof(magic));
  const bool ok =
      ::write(fd, zeros, kFileBytes) == static_cast<ssize_t>(kFileBytes);
  const int err = errno;
  ::close(fd);
  if (!ok) {
    return Unavailable("cannot write progress file " + path + ": " +
                       std::strerror(err));
  }
  return Status::Ok();
}

StatusOr<std::unique_ptr<ProgressWriter>> ProgressWriter::Open(
    const std::string& path) {
  DSTRAIN_ASSIGN_OR_RETURN(void* p, Map(path, /*writable=*/true));
  auto* layout = static_cast<ProgressLayout*>(p);
  if (layout->magic.load() != kMagic) {
    ::munmap(p, kFileBytes);
    return FailedPrecondition("progress file " + path +
                              " was not made by CreateProgressFile");
  }
  return std::unique_ptr<ProgressWriter>(new ProgressWriter(layout));
}

ProgressWriter::~ProgressWriter() { ::munmap(layout_, kFileBytes); }

void ProgressWriter::BeginWrite() {
  layout_->version.fetch_add(1, std::memory_order_relaxed);
  std::atomic_thread_fence(std::memory_order_release);
}

void ProgressWriter::EndWrite() {
  layout_->updated_unix_us.store(NowUnixMicros(), std::memory_order_relaxed);
  layout_->version.fetch_add(1, std::memory_order_release);
}

int ProgressWriter::AddComm(std::string_view comm) {
  std::lock_guard<std::mutex> lock(mu_);
  if (slots_used_ == kProgressSlots) return -1;
  const int slot = slots_used_++;
  BeginWrite();
  layout_->slots[slot].comm.Set(comm);
  layout_->slots_used.store(slots_used_, std::memory_order_relaxed);
  EndWrite();
  return slot;
}

void ProgressWriter::Started(int slot, std::string_view op, std::int64_t seq,
                             std::int64_t numel, std::string_view dtype) {
  if (slot < 0 || slot >= kProgressSlots) return;
  std::lock_guard<std::mutex> lock(mu_);
  BeginWrite();
  Slot& s = layout_->slots[slot];
  s.op.Set(op);
  s.dtype.Set(dtype);
  s.numel.store(numel, std::memory_order_relaxed);
  s.started_seq.store(seq, std::memory_order_relaxed);
  EndWrite();
}

void ProgressWriter::Completed(int slot, std::int64_t seq) {
  if (slot < 0 || slot >= kProgressSlots) return;
  std::lock_guard<std::mutex> lock(mu_);
  Slot& s = layout_->slots[slot];
  // Works may be waited on out of issue order: keep the highest.
  if (seq <= s.completed_seq.load(std::memory_order_relaxed)) return;
  BeginWrite();
  s.completed_seq.store(seq, std::memory_order_relaxed);
  EndWrite();
}

void ProgressWriter::SetStep(std::int64_t step) {
  std::lock_guard<std::mutex> lock(mu_);
  BeginWrite();
  layout_->step.store(step, std::memory_order_relaxed);
  EndWrite();
}

void ProgressWriter::SetPhase(std::string_view phase) {
  std::lock_guard<std::mutex> lock(mu_);
  BeginWrite();
  layout_->phase.Set(phase);
  EndWrite();
}

StatusOr<std::unique_ptr<ProgressReader>> ProgressReader::Open(
    const std::string& path) {
  DSTRAIN_ASSIGN_OR_RETURN(void* p, Map(path, /*writable=*/false));
  const auto* layout = static_cast<const ProgressLayout*>(p);
  if (layout->magic.load() != kMagic) {
    ::munmap(p, kFileBytes);
    return FailedPrecondition("progress file " + path +
                              " was not made by CreateProgressFile");
  }
  return std::unique_ptr<ProgressReader>(new ProgressReader(layout));
}

ProgressReader::~ProgressReader() {
  ::munmap(const_cast<ProgressLayout*>(layout_), kFileBytes);
}

StatusOr<ProgressSnapshot> ProgressReader::Read() const {
  for (int attempt = 0; attempt < kReadTries; ++attempt) {
    const std::uint64_t before =
        layout_->version.load(std::memory_order_acquire);
    if (before % 2 != 0) continue;
    ProgressSnapshot s;
    s.step = layout_->step.load(std::memory_order_relaxed);
    s.updated_unix_us =
        layout_->updated_unix_us.load(std::memory_order_relaxed);
    s.phase = layout_->phase.Get();
    const std::int64_t used = std::min<std::int64_t>(
        kProgressSlots,
        std::max<std::int64_t>(
            0, layout_->slots_used.load(std::memory_order_relaxed)));
    for (std::int64_t i = 0; i < used; ++i) {
      const Slot& slot = layout_->slots[i];
      CollectiveProgress c;
      c.comm = slot.comm.Get();
      c.op = slot.op.Get();
      c.dtype = slot.dtype.Get();
      c.started_seq = slot.started_seq.load(std::memory_order_relaxed);
      c.completed_seq = slot.completed_seq.load(std::memory_order_relaxed);
      c.numel = slot.numel.load(std::memory_order_relaxed);
      s.comms.push_back(std::move(c));
    }
    std::atomic_thread_fence(std::memory_order_acquire);
    if (layout_->version.load(std::memory_order_relaxed) == before) return s;
  }
  return Unavailable("the progress record kept changing while read");
}

}  // namespace dstrain::contract
