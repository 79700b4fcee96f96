// The event encoding, checked field by field with protobuf's own parser
// (TensorFlow's field numbers and wire types), and the TFRecord framing
// with its CRCs. That TensorBoard reads the files is
// tests/tensorboard_launch_test.cc's.
#include "cli/tensorboard_writer.h"

#include <google/protobuf/unknown_field_set.h>
#include <gtest/gtest.h>

#include <cstring>

#include "common/crc32c.h"

namespace dstrain::cli {
namespace {

using google::protobuf::UnknownField;
using google::protobuf::UnknownFieldSet;

template <typename T>
T LittleEndianAt(const std::string& s, std::size_t at) {
  T v;
  std::memcpy(&v, s.data() + at, sizeof(T));
  return v;
}

TEST(TensorBoardEventTest, AScalarEventHasTensorFlowsFields) {
  const std::string e = EncodeScalarEvent(
      1700000000.25, 300, {{"train/loss", 2.5f}, {"train/lr", 0.001f}});
  UnknownFieldSet event;
  ASSERT_TRUE(event.ParseFromString(e));
  ASSERT_EQ(event.field_count(), 3);
  EXPECT_EQ(event.field(0).number(), 1);  // wall_time
  ASSERT_EQ(event.field(0).type(), UnknownField::TYPE_FIXED64);
  double wall;
  const std::uint64_t bits = event.field(0).fixed64();
  std::memcpy(&wall, &bits, sizeof(wall));
  EXPECT_EQ(wall, 1700000000.25);
  EXPECT_EQ(event.field(1).number(), 2);  // step
  EXPECT_EQ(event.field(1).varint(), 300u);
  EXPECT_EQ(event.field(2).number(), 5);  // summary
  UnknownFieldSet summary;
  ASSERT_TRUE(summary.ParseFromString(event.field(2).length_delimited()));
  ASSERT_EQ(summary.field_count(), 2);
  UnknownFieldSet value;
  ASSERT_TRUE(value.ParseFromString(summary.field(0).length_delimited()));
  EXPECT_EQ(value.field(0).number(), 1);  // tag
  EXPECT_EQ(value.field(0).length_delimited(), "train/loss");
  EXPECT_EQ(value.field(1).number(), 2);  // simple_value
  ASSERT_EQ(value.field(1).type(), UnknownField::TYPE_FIXED32);
  float loss;
  const std::uint32_t fbits = value.field(1).fixed32();
  std::memcpy(&loss, &fbits, sizeof(loss));
  EXPECT_EQ(loss, 2.5f);
}

TEST(TensorBoardEventTest, TheFirstEventNamesTheFileVersion) {
  UnknownFieldSet event;
  ASSERT_TRUE(event.ParseFromString(EncodeFileVersionEvent(1.0)));
  ASSERT_EQ(event.field_count(), 2);
  EXPECT_EQ(event.field(1).number(), 3);
  EXPECT_EQ(event.field(1).length_delimited(), "brain.Event:2");
}

TEST(TensorBoardEventTest, ARecordIsFramedWithMaskedCrcs) {
  const std::string data = "some event bytes";
  const std::string r = FrameRecord(data);
  ASSERT_EQ(r.size(), 8 + 4 + data.size() + 4);
  EXPECT_EQ(LittleEndianAt<std::uint64_t>(r, 0), data.size());
  EXPECT_EQ(LittleEndianAt<std::uint32_t>(r, 8),
            MaskedCrc32c(std::string_view(r.data(), 8)));
  EXPECT_EQ(r.substr(12, data.size()), data);
  EXPECT_EQ(LittleEndianAt<std::uint32_t>(r, 12 + data.size()),
            MaskedCrc32c(data));
}

TEST(TensorBoardEventTest, StepScalarsLeaveOutWhatWasNotMeasured) {
  proto::StepMetrics m;
  m.set_loss(3.0);
  m.set_loss_scale(1.0);
  std::vector<std::string> tags;
  for (const auto& [tag, v] : StepScalars(m)) tags.push_back(tag);
  EXPECT_EQ(tags, (std::vector<std::string>{
                      "train/loss", "train/lr", "train/grad_norm",
                      "train/tokens_per_s", "train/step_time_s",
                      "train/comm_time_s", "train/data_wait_s"}));
  m.set_loss_scale(65536);
  m.set_peak_rss_bytes(3 * 1024 * 1024);
  const auto s = StepScalars(m);
  EXPECT_EQ(s[7].first, "train/loss_scale");
  EXPECT_EQ(s[8].first, "memory/peak_rss_mib");
  EXPECT_FLOAT_EQ(s[8].second, 3.0f);
}

}  // namespace
}  // namespace dstrain::cli
