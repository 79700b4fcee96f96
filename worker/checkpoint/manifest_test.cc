#include "worker/checkpoint/manifest.h"

#include <gtest/gtest.h>

#include <cstring>

#include "common/testing/status_matchers.h"

namespace dstrain::checkpoint {
namespace {

using ::dstrain::testing::IsOk;
using ::testing::Not;

Manifest Sample() {
  Manifest m;
  m.job_name = "charlm test";
  m.model_hash = "0123456789abcdef";
  m.step = 30;
  m.data_position = 480;
  m.global_batch = 16;
  m.world_size = 2;
  m.zero_stage = 3;
  m.attempt = 1;
  m.optimizer_step = 29;
  ManifestUnit u;
  u.name = "root";
  u.numel = 6 + 3;
  u.decay_numel = 6;
  u.padded_numel = 10;
  u.shard_numel = 5;
  u.params = {{"tok_emb.weight", {2, 3}, 0}, {"ln_f.bias", {3}, 6}};
  m.units.push_back(u);
  for (int r = 0; r < 2; ++r) {
    m.shards.push_back({r, ShardFileName(r, 2), 1000 + r, 0xdeadbeefu + r, 16});
  }
  return m;
}

TEST(ManifestTest, RoundTrips) {
  Manifest m = Sample();
  StatusOr<Manifest> back = ParseManifest(SerializeManifest(m), "m.txt");
  ASSERT_THAT(back, IsOk()) << back.status().ToString();
  EXPECT_EQ(*back, m);

  amp::LossScalerState s;
  s.scale = 1024;
  s.growth_tracker = 17;
  m.loss_scaler = s;
  back = ParseManifest(SerializeManifest(m), "m.txt");
  ASSERT_THAT(back, IsOk()) << back.status().ToString();
  ASSERT_TRUE(back->loss_scaler.has_value());
  EXPECT_EQ(*back->loss_scaler, s);
  EXPECT_EQ(*back, m);
}

TEST(ManifestTest, TruncationIsNamedWithTheLine) {
  const std::string text = SerializeManifest(Sample());
  // Cut in the middle of the shard lines.
  const std::string cut = text.substr(0, text.find("shard 1"));
  StatusOr<Manifest> m = ParseManifest(cut, "ckpt/step-30/manifest.txt");
  ASSERT_THAT(m, Not(IsOk()));
  EXPECT_NE(m.status().message().find("ckpt/step-30/manifest.txt:"),
            std::string::npos)
      << m.status().message();
  EXPECT_NE(m.status().message().find("truncated"), std::string::npos);
}

TEST(ManifestTest, AnEditedByteFailsTheChecksum) {
  std::string text = SerializeManifest(Sample());
  text[text.find("step 30") + 5] = '4';  // step 40
  StatusOr<Manifest> m = ParseManifest(text, "m.txt");
  ASSERT_THAT(m, Not(IsOk()));
  EXPECT_NE(m.status().message().find("checksum"), std::string::npos)
      << m.status().message();
}

TEST(ManifestTest, BadFieldsAreNamed) {
  std::string text = SerializeManifest(Sample());
  const std::size_t at = text.find("rng_bytes=16");
  text.replace(at, 12, "rng_bytez=16");
  StatusOr<Manifest> m = ParseManifest(text, "m.txt");
  ASSERT_THAT(m, Not(IsOk()));
  EXPECT_NE(m.status().message().find("rng_bytez"), std::string::npos)
      << m.status().message();

  StatusOr<Manifest> v = ParseManifest("dstrain-checkpoint 9\n", "m.txt");
  ASSERT_THAT(v, Not(IsOk()));
  EXPECT_NE(v.status().message().find("m.txt:1: format version 9"),
            std::string::npos)
      << v.status().message();
}

// World size and attempt are ints: a value past INT_MAX is refused, not
// wrapped round (found by the loaders' fuzz test).
TEST(ManifestTest, IntFieldsDoNotWrap) {
  for (const char* key : {"world_size ", "attempt "}) {
    std::string text = SerializeManifest(Sample());
    const std::size_t at = text.find(key) + std::strlen(key);
    text.replace(at, text.find('\n', at) - at, "2147483649");
    StatusOr<Manifest> m = ParseManifest(text, "m.txt");
    ASSERT_THAT(m, Not(IsOk())) << key;
    EXPECT_NE(m.status().message().find("is not an integer between"),
              std::string::npos)
        << m.status().message();
  }
}

// Found by loaders_libfuzzer (UBSan: signed overflow multiplying the
// dimensions): a shape whose product does not fit is refused, naming it.
TEST(ManifestTest, AShapeTooLargeForItsUnitIsRefused) {
  for (const char* shape :
       {"2x44444444x44444444444444443", "4x3", "9223372036854775807x2"}) {
    std::string text = SerializeManifest(Sample());
    const std::string from = "shape=2x3";
    text.replace(text.find(from), from.size(), std::string("shape=") + shape);
    StatusOr<Manifest> m = ParseManifest(text, "m.txt");
    ASSERT_THAT(m, Not(IsOk())) << shape;
    EXPECT_NE(m.status().message().find(std::string("shape ") + shape +
                                        " holds more elements than unit root"),
              std::string::npos)
        << m.status().message();
  }
}

TEST(ManifestTest, ModelHashFollowsTheShapesOnly) {
  config::ModelConfig a;
  config::ModelConfig b = a;
  b.dropout = 0.1;  // no parameter changes
  EXPECT_EQ(ModelHash(a), ModelHash(b));
  b.d_ff = 4 * b.d_model;  // the default spelled out
  EXPECT_EQ(ModelHash(a), ModelHash(b));
  b.layers += 1;
  EXPECT_NE(ModelHash(a), ModelHash(b));
  EXPECT_EQ(ModelHash(a).size(), 16u);
}

}  // namespace
}  // namespace dstrain::checkpoint
