#include "common/json_writer.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace dstrain {
namespace {

TEST(JsonWriterTest, NestsWithCommas) {
  JsonWriter w;
  w.BeginObject()
      .Key("a")
      .Int(1)
      .Key("b")
      .BeginArray()
      .Number(0.1)
      .String("x")
      .Bool(true)
      .Null()
      .BeginObject()
      .EndObject()
      .EndArray()
      .Key("c")
      .String("")
      .EndObject();
  EXPECT_EQ(w.str(), R"({"a":1,"b":[0.1,"x",true,null,{}],"c":""})");
}

TEST(JsonWriterTest, EscapesStrings) {
  EXPECT_EQ(JsonQuote("a\"b\\c\nd\te\x01"), R"("a\"b\\c\nd\te\u0001")");
}

TEST(JsonWriterTest, NumbersRoundTripAndNonFiniteIsNull) {
  JsonWriter w;
  w.BeginArray()
      .Number(2.9134567891234)
      .Number(5.0)
      .Number(std::nan(""))
      .Number(std::numeric_limits<double>::infinity())
      .EndArray();
  EXPECT_EQ(w.str(), "[2.9134567891234,5,null,null]");
}

}  // namespace
}  // namespace dstrain
