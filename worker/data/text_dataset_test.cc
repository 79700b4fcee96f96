#include "worker/data/text_dataset.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "common/testing/status_matchers.h"

namespace dstrain::data {
namespace {

using ::dstrain::testing::IsOk;
using ::testing::Not;
namespace fs = std::filesystem;

class TextDatasetTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/dstrain_text_dataset_XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string Write(const std::string& name, const std::string& text) {
    const fs::path p = dir_ / name;
    std::ofstream(p, std::ios::binary) << text;
    return p.string();
  }

  fs::path dir_;
};

std::string AsString(const TextDataset& d) {
  return std::string(d.bytes().begin(), d.bytes().end());
}

TEST_F(TextDatasetTest, ReadsOneFile) {
  const std::string p = Write("corpus.txt", "hello\nworld\n\xff\x01");
  auto ds = TextDataset::Open(p);
  ASSERT_THAT(ds, IsOk()) << ds.status().ToString();
  EXPECT_EQ(AsString(**ds), "hello\nworld\n\xff\x01");
  EXPECT_EQ((*ds)->files(), std::vector<std::string>{p});
}

TEST_F(TextDatasetTest, FolderConcatenatesSortedSkippingDatSymlinksAndDirs) {
  Write("b", "BBB");
  Write("a", "AA");
  Write("a.dat", "index");
  Write("c.txt", "C");
  fs::create_symlink(dir_ / "a", dir_ / "a.u8");
  fs::create_directory(dir_ / "sub");
  Write("sub/inner", "never");
  auto ds = TextDataset::Open(dir_.string());
  ASSERT_THAT(ds, IsOk()) << ds.status().ToString();
  EXPECT_EQ(AsString(**ds), "AABBBC");
  ASSERT_EQ((*ds)->files().size(), 3u);
  EXPECT_EQ(fs::path((*ds)->files()[0]).filename(), "a");
  EXPECT_EQ(fs::path((*ds)->files()[2]).filename(), "c.txt");
}

TEST_F(TextDatasetTest, ErrorsNameThePath) {
  const std::string missing = (dir_ / "nope").string();
  auto a = TextDataset::Open(missing);
  ASSERT_THAT(a, Not(IsOk()));
  EXPECT_NE(a.status().message().find(missing), std::string::npos);

  const std::string empty = Write("empty", "");
  auto b = TextDataset::Open(empty);
  ASSERT_THAT(b, Not(IsOk()));
  EXPECT_NE(b.status().message().find("is empty"), std::string::npos);

  fs::create_directory(dir_ / "only_index");
  Write("only_index/x.dat", "idx");
  auto c = TextDataset::Open((dir_ / "only_index").string());
  ASSERT_THAT(c, Not(IsOk()));
  EXPECT_NE(c.status().message().find("no regular non-.dat files"),
            std::string::npos);
}

TEST(TextDatasetFortunesTest, ReadsTheDemoCorpusWhenInstalled) {
  const std::string path = "/usr/share/games/fortunes";
  if (!fs::is_directory(path)) GTEST_SKIP() << path << " is not installed";
  auto ds = TextDataset::Open(path);
  ASSERT_THAT(ds, IsOk()) << ds.status().ToString();
  EXPECT_GT((*ds)->bytes().size(), 1000000u);
  for (const std::string& f : (*ds)->files()) {
    EXPECT_NE(fs::path(f).extension(), ".dat");
    EXPECT_FALSE(fs::is_symlink(f));
  }
}

}  // namespace
}  // namespace dstrain::data
