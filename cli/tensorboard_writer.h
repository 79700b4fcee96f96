#pragma once
// A run's step metrics as TensorBoard event files, so `tensorboard
// --logdir RUN/tensorboard` shows them with nothing else installed on the
// training side.
//
// The file is what TensorFlow's summary writer makes:
// DIR/events.out.tfevents.<unix seconds>.<hostname>, a TFRecord stream
// (each record: its length as a little-endian uint64, the masked CRC-32C of
// those 8 bytes, the bytes, their masked CRC-32C) of serialised
// tensorflow.Event messages: first one with file_version "brain.Event:2",
// then one per step holding a Summary of simple_value scalars. The few
// protobuf fields involved are encoded here (EncodeScalarEvent), with
// TensorFlow's field numbers, so no TensorFlow or TensorBoard code is
// needed to write them; the tests read them back with TensorBoard's own
// reader.
//
// Each record is flushed as it is written. A step that goes back (a
// resumed or restarted run repeating steps after its checkpoint) is just
// written again: TensorBoard drops the older points from that step on
// when it reads them. Not thread-safe: one launch owns it.

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"
#include "dstrain.pb.h"

namespace dstrain::cli {

// tensorflow.Event{wall_time, step, summary{value{tag, simple_value}...}}.
std::string EncodeScalarEvent(
    double wall_time, std::int64_t step,
    const std::vector<std::pair<std::string, float>>& scalars);
// tensorflow.Event{wall_time, file_version}.
std::string EncodeFileVersionEvent(double wall_time);
// One TFRecord: length, masked CRC of the length, data, masked CRC of it.
std::string FrameRecord(std::string_view data);

// The scalars written for a step: loss, lr, grad_norm, tokens_per_s,
// step_time_s, comm_time_s, loss_scale (when not 1), memory in MiB; under
// TensorBoard tags "train/<name>".
std::vector<std::pair<std::string, float>> StepScalars(
    const proto::StepMetrics& m);

class TensorBoardWriter {
 public:
  // Makes DIR (and its parents) and a new event file in it.
  static StatusOr<std::unique_ptr<TensorBoardWriter>> Open(
      const std::string& dir);
  ~TensorBoardWriter();
  TensorBoardWriter(const TensorBoardWriter&) = delete;
  TensorBoardWriter& operator=(const TensorBoardWriter&) = delete;

  Status AddStep(const proto::StepMetrics& m, double wall_time);
  const std::string& path() const { return path_; }

 private:
  TensorBoardWriter(std::string path, std::FILE* file)
      : path_(std::move(path)), file_(file) {}
  Status Write(const std::string& record);

  const std::string path_;
  std::FILE* const file_;
};

}  // namespace dstrain::cli
