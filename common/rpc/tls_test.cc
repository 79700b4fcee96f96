#include "common/rpc/tls.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>

#include "common/testing/status_matchers.h"

namespace dstrain::rpc {
namespace {

namespace fs = std::filesystem;
using ::dstrain::testing::IsOk;
using ::dstrain::testing::StatusIs;
using ::testing::HasSubstr;

class TlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/dstrain_tls_test_XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string Write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ / name) << text;
    return (dir_ / name).string();
  }
  fs::path dir_;
};

TEST_F(TlsTest, NoFlagsIsPlaintext) {
  StatusOr<std::optional<TlsConfig>> none = LoadTls({});
  ASSERT_THAT(none, IsOk());
  EXPECT_FALSE(none->has_value());
}

TEST_F(TlsTest, AllThreePemFilesAreRead) {
  TlsFiles files{Write("c.pem", "-----BEGIN CERTIFICATE-----\nc\n"),
                 Write("k.pem", "-----BEGIN PRIVATE KEY-----\nk\n"),
                 Write("ca.pem", "-----BEGIN CERTIFICATE-----\nca\n")};
  StatusOr<std::optional<TlsConfig>> tls = LoadTls(files);
  ASSERT_THAT(tls, IsOk());
  ASSERT_TRUE(tls->has_value());
  EXPECT_THAT((*tls)->cert_pem, HasSubstr("\nc\n"));
  EXPECT_THAT((*tls)->key_pem, HasSubstr("\nk\n"));
  EXPECT_THAT((*tls)->ca_pem, HasSubstr("\nca\n"));
}

TEST_F(TlsTest, HalfTheFlagsOrNotPemNamesTheFlag) {
  const std::string pem = Write("c.pem", "-----BEGIN CERTIFICATE-----\n");
  EXPECT_THAT(LoadTls({pem, "", ""}),
              StatusIs(StatusCode::kInvalidArgument,
                       HasSubstr("--tls-key is missing")));
  EXPECT_THAT(
      LoadTls({pem, pem, ""}),
      StatusIs(StatusCode::kInvalidArgument, HasSubstr("--tls-ca is missing")));
  const std::string junk = Write("junk", "not a certificate\n");
  EXPECT_THAT(
      LoadTls({pem, junk, pem}),
      StatusIs(StatusCode::kInvalidArgument,
               HasSubstr("--tls-key " + junk + ": not a PEM private key")));
  EXPECT_THAT(
      LoadTls({pem, pem, (dir_ / "missing.pem").string()}),
      StatusIs(StatusCode::kInvalidArgument, HasSubstr("no such file")));
}

}  // namespace
}  // namespace dstrain::rpc
