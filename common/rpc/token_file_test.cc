#include "common/rpc/token_file.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "common/testing/status_matchers.h"

namespace dstrain::rpc {
namespace {

namespace fs = std::filesystem;
using ::dstrain::testing::IsOk;
using ::dstrain::testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;

class TokenFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/dstrain_token_test_XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    ::unsetenv(kTokenEnvironmentVariable);
  }
  void TearDown() override {
    fs::remove_all(dir_);
    ::unsetenv(kTokenEnvironmentVariable);
  }
  std::string Write(const std::string& name, const std::string& text,
                    mode_t mode = 0600) {
    const std::string path = (dir_ / name).string();
    std::ofstream(path) << text;
    ::chmod(path.c_str(), mode);
    return path;
  }
  fs::path dir_;
};

// The mistake that used to start a cluster with the path as its secret.
TEST_F(TokenFileTest, AMissingFileIsAnErrorNotTheToken) {
  const std::string path = (dir_ / "token").string();
  StatusOr<std::string> t = ResolveClusterToken(path, "--token-file");
  EXPECT_THAT(t, StatusIs(StatusCode::kNotFound,
                          AllOf(HasSubstr("--token-file " + path),
                                HasSubstr("no such file"),
                                HasSubstr("--generate-token"))));
}

TEST_F(TokenFileTest, FirstLineTrimmedIsTheToken) {
  const std::string path = Write("token", "  tok-from-file \nsecond line\n");
  StatusOr<std::string> t = ReadTokenFile(path, "--token-file");
  ASSERT_THAT(t, IsOk());
  EXPECT_EQ(*t, "tok-from-file");
}

TEST_F(TokenFileTest, GroupOrWorldReadableIsRefusedWithTheChmod) {
  for (mode_t mode : {0644, 0640, 0604, 0660}) {
    const std::string path = Write("open", "secret\n", mode);
    EXPECT_THAT(ReadTokenFile(path, "--token-file"),
                StatusIs(StatusCode::kInvalidArgument,
                         AllOf(HasSubstr(path), HasSubstr("chmod 600"))))
        << std::oct << mode;
  }
  EXPECT_THAT(
      ReadTokenFile(Write("owner_only", "secret\n", 0400), "--token-file"),
      IsOk());
}

TEST_F(TokenFileTest, EmptyFileIsAnErrorNamingTheFile) {
  for (const char* text : {"", "\n", "   \nsecond\n"}) {
    const std::string path = Write("empty", text);
    EXPECT_THAT(ReadTokenFile(path, "--token-file"),
                StatusIs(StatusCode::kInvalidArgument,
                         AllOf(HasSubstr(path), HasSubstr("empty"))));
  }
}

TEST_F(TokenFileTest, ADirectoryIsNotATokenFile) {
  fs::create_directory(dir_ / "d");
  ::chmod((dir_ / "d").c_str(), 0700);
  EXPECT_THAT(
      ReadTokenFile((dir_ / "d").string(), "--token-file"),
      StatusIs(StatusCode::kInvalidArgument, HasSubstr("not a regular file")));
}

TEST_F(TokenFileTest, UnreadableFileSaysWhy) {
  if (::geteuid() == 0) {
    GTEST_SKIP() << "running as root, which can read a mode-000 file";
  }
  const std::string path = Write("locked", "secret\n", 0000);
  EXPECT_THAT(ReadTokenFile(path, "--token-file"),
              StatusIs(StatusCode::kInvalidArgument,
                       AllOf(HasSubstr(path), HasSubstr("cannot read"))));
}

TEST_F(TokenFileTest, ASymlinkToAPrivateFileIsFollowed) {
  // Secret mounts (Kubernetes, Vault agents) are symlinks.
  const std::string target = Write("real", "linked-token\n");
  fs::create_symlink(target, dir_ / "link");
  StatusOr<std::string> t =
      ReadTokenFile((dir_ / "link").string(), "--token-file");
  ASSERT_THAT(t, IsOk());
  EXPECT_EQ(*t, "linked-token");
}

TEST_F(TokenFileTest, InvalidTokenNamesTheLine) {
  const std::string path = Write("bad", "two words\n");
  EXPECT_THAT(ReadTokenFile(path, "--token-file"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr(path + ":1")));
}

TEST_F(TokenFileTest, TheEnvironmentIsTheOnlyLiteralSource) {
  EXPECT_THAT(ResolveClusterToken("", "--token-file"),
              StatusIs(StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("--token-file"),
                             HasSubstr(kTokenEnvironmentVariable))));
  ::setenv(kTokenEnvironmentVariable, "from-env", 1);
  StatusOr<std::string> t = ResolveClusterToken("", "--token-file");
  ASSERT_THAT(t, IsOk());
  EXPECT_EQ(*t, "from-env");
  // A file named by the flag wins over the environment.
  StatusOr<std::string> f =
      ResolveClusterToken(Write("token", "from-file\n"), "--token-file");
  ASSERT_THAT(f, IsOk());
  EXPECT_EQ(*f, "from-file");
}

TEST_F(TokenFileTest, CreateWritesAPrivateFileAndRefusesToReplaceOne) {
  const std::string path = (dir_ / "new").string();
  const mode_t old_umask = ::umask(0);  // the file must not follow the umask
  StatusOr<std::string> made = CreateTokenFile(path, "--generate-token");
  ::umask(old_umask);
  ASSERT_THAT(made, IsOk());
  struct stat st;
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  StatusOr<std::string> read = ReadTokenFile(path, "--token-file");
  ASSERT_THAT(read, IsOk());
  EXPECT_EQ(*read, *made);
  EXPECT_EQ(made->size(), 64u);

  EXPECT_THAT(CreateTokenFile(path, "--generate-token"),
              StatusIs(StatusCode::kAlreadyExists,
                       AllOf(HasSubstr(path), HasSubstr("--token-file"))));
  StatusOr<std::string> still = ReadTokenFile(path, "--token-file");
  ASSERT_THAT(still, IsOk());
  EXPECT_EQ(*still, *made);
}

}  // namespace
}  // namespace dstrain::rpc
