#include "cli/tensorboard_writer.h"

#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>

#include "common/crc32c.h"

namespace dstrain::cli {
namespace {

void PutVarint(std::uint64_t v, std::string* out) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>((v & 0x7F) | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

template <typename T>
void PutLittleEndian(T v, std::string* out) {
  unsigned char bytes[sizeof(T)];
  std::memcpy(bytes, &v, sizeof(T));  // x86-64 and aarch64: little-endian
  out->append(reinterpret_cast<const char*>(bytes), sizeof(T));
}

// Field tags: (field number << 3) | wire type.
void PutLengthDelimited(int field, std::string_view bytes, std::string* out) {
  PutVarint(static_cast<std::uint64_t>(field) << 3 | 2, out);
  PutVarint(bytes.size(), out);
  out->append(bytes);
}

std::string EventHead(double wall_time) {
  std::string e;
  PutVarint(1 << 3 | 1, &e);  // wall_time: double, field 1
  PutLittleEndian(wall_time, &e);
  return e;
}

}  // namespace

std::string EncodeScalarEvent(
    double wall_time, std::int64_t step,
    const std::vector<std::pair<std::string, float>>& scalars) {
  std::string summary;
  for (const auto& [tag, value] : scalars) {
    std::string v;
    PutLengthDelimited(1, tag, &v);  // Summary.Value.tag
    PutVarint(2 << 3 | 5, &v);       // Summary.Value.simple_value: float
    PutLittleEndian(value, &v);
    PutLengthDelimited(1, v, &summary);  // Summary.value
  }
  std::string e = EventHead(wall_time);
  PutVarint(2 << 3 | 0, &e);  // Event.step: int64
  PutVarint(static_cast<std::uint64_t>(step), &e);
  PutLengthDelimited(5, summary, &e);  // Event.summary
  return e;
}

std::string EncodeFileVersionEvent(double wall_time) {
  std::string e = EventHead(wall_time);
  PutLengthDelimited(3, "brain.Event:2", &e);  // Event.file_version
  return e;
}

std::string FrameRecord(std::string_view data) {
  std::string length;
  PutLittleEndian(static_cast<std::uint64_t>(data.size()), &length);
  std::string r = length;
  PutLittleEndian(MaskedCrc32c(length), &r);
  r.append(data);
  PutLittleEndian(MaskedCrc32c(data), &r);
  return r;
}

std::vector<std::pair<std::string, float>> StepScalars(
    const proto::StepMetrics& m) {
  constexpr double kMiB = 1024.0 * 1024.0;
  std::vector<std::pair<std::string, float>> s = {
      {"train/loss", static_cast<float>(m.loss())},
      {"train/lr", static_cast<float>(m.lr())},
      {"train/grad_norm", static_cast<float>(m.grad_norm())},
      {"train/tokens_per_s", static_cast<float>(m.tokens_per_s())},
      {"train/step_time_s", static_cast<float>(m.step_time_s())},
      {"train/comm_time_s", static_cast<float>(m.comm_time_s())},
      {"train/data_wait_s", static_cast<float>(m.data_wait_s())},
  };
  if (m.loss_scale() != 0 && m.loss_scale() != 1) {
    s.emplace_back("train/loss_scale", static_cast<float>(m.loss_scale()));
  }
  if (m.peak_rss_bytes() > 0) {
    s.emplace_back("memory/peak_rss_mib",
                   static_cast<float>(m.peak_rss_bytes() / kMiB));
  }
  if (m.model_state_peak_bytes() > 0) {
    s.emplace_back("memory/model_state_peak_mib",
                   static_cast<float>(m.model_state_peak_bytes() / kMiB));
  }
  if (m.activation_peak_bytes() > 0) {
    s.emplace_back("memory/activation_peak_mib",
                   static_cast<float>(m.activation_peak_bytes() / kMiB));
  }
  return s;
}

StatusOr<std::unique_ptr<TensorBoardWriter>> TensorBoardWriter::Open(
    const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    return InvalidArgument("tensorboard: cannot make " + dir + ": " +
                           ec.message());
  }
  char host[256] = "localhost";
  (void)gethostname(host, sizeof(host) - 1);
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  const double wall = std::chrono::duration<double>(now).count();
  const std::string path =
      dir + "/events.out.tfevents." +
      std::to_string(
          std::chrono::duration_cast<std::chrono::seconds>(now).count()) +
      "." + host;
  std::FILE* f = std::fopen(path.c_str(), "ab");
  if (f == nullptr) {
    return InvalidArgument("tensorboard: cannot write " + path + ": " +
                           std::strerror(errno));
  }
  std::unique_ptr<TensorBoardWriter> w(new TensorBoardWriter(path, f));
  DSTRAIN_RETURN_IF_ERROR(w->Write(FrameRecord(EncodeFileVersionEvent(wall))));
  return w;
}

TensorBoardWriter::~TensorBoardWriter() { std::fclose(file_); }

Status TensorBoardWriter::Write(const std::string& record) {
  if (std::fwrite(record.data(), 1, record.size(), file_) != record.size() ||
      std::fflush(file_) != 0) {
    return Unavailable("tensorboard: cannot write " + path_ + ": " +
                       std::strerror(errno));
  }
  return Status::Ok();
}

Status TensorBoardWriter::AddStep(const proto::StepMetrics& m,
                                  double wall_time) {
  return Write(
      FrameRecord(EncodeScalarEvent(wall_time, m.step(), StepScalars(m))));
}

}  // namespace dstrain::cli
