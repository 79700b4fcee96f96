#include "common/rpc/status_convert.h"

#include <gtest/gtest.h>

#include "common/testing/status_matchers.h"

namespace dstrain::rpc {
namespace {

using ::dstrain::testing::IsOk;

TEST(StatusConvertTest, RoundTripsEveryCode) {
  for (int c = 0; c <= static_cast<int>(StatusCode::kUnauthenticated); ++c) {
    auto code = static_cast<StatusCode>(c);
    Status s = code == StatusCode::kOk ? Status::Ok() : Status(code, "m");
    grpc::Status g = ToGrpcStatus(s);
    EXPECT_EQ(static_cast<int>(g.error_code()), c);
    Status back = FromGrpcStatus(g);
    EXPECT_EQ(back.code(), code);
    if (!s.ok()) {
      EXPECT_EQ(back.message(), "m");
    }
  }
}

TEST(StatusConvertTest, WhatPrefixesTheMessage) {
  grpc::Status g(grpc::StatusCode::UNAVAILABLE, "connection refused");
  Status s = FromGrpcStatus(g, "LaunchJob to 127.0.0.1:1");
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_EQ(s.message(), "LaunchJob to 127.0.0.1:1: connection refused");
  EXPECT_THAT(FromGrpcStatus(grpc::Status::OK, "x"), IsOk());
}

}  // namespace
}  // namespace dstrain::rpc
