// The model registry: the job schema offers exactly the models the engine
// can build, and an unknown type is refused by name.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/config/job_schema.h"
#include "common/testing/status_matchers.h"
#include "worker/engine/trainable_model.h"

namespace dstrain::engine {
namespace {

using ::dstrain::testing::IsOk;
using ::dstrain::testing::StatusIs;
using ::testing::HasSubstr;

TEST(ModelRegistryTest, TheSchemaOffersExactlyTheRegisteredModels) {
  const config::schema::Field* f = config::schema::FindField("model.type");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->choices, RegisteredModelTypes());
}

TEST(ModelRegistryTest, BuildsEveryRegisteredModelAndRefusesOthers) {
  for (const std::string& type : RegisteredModelTypes()) {
    config::ModelConfig m;
    m.type = type;
    m.layers = 1;
    m.d_model = 16;
    m.heads = 2;
    m.seq_len = 8;
    StatusOr<std::unique_ptr<TrainableModel>> model = MakeModel(m);
    ASSERT_THAT(model, IsOk()) << type;
    EXPECT_FALSE((*model)->Units().empty());
    EXPECT_FALSE((*model)->UnitForwardOrder().empty());
  }
  config::ModelConfig bert;
  bert.type = "bert";
  EXPECT_THAT(MakeModel(bert), StatusIs(StatusCode::kUnimplemented,
                                        HasSubstr("`model.type: bert`")));
}

}  // namespace
}  // namespace dstrain::engine
