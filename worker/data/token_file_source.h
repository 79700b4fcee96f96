#pragma once
// `data.type: tokens`: flat files of uint16 or uint32 token ids (nanoGPT's
// train.bin), one or many shards — a glob (`train-*.bin`, name order) or a
// folder (its *.bin files) — read as one stream with positioned reads
// (pread), so several threads read at once and a file cut short after open
// is an error naming it, not a SIGBUS as through a mapping. Each
// shard's dtype, vocabulary and token count come from its JSON sidecar
// (`train.bin.json`, sidecar.h) or, without one, from `data.dtype`.
//
// Open checks every shard before anything reads it: a missing file, one
// whose size is not a whole number of tokens or disagrees with its
// sidecar's count (truncated), a dtype the job contradicts, a sidecar
// vocabulary larger than the model's; each error names the file.
// Reads are thread-safe (concurrent_reads()).

#include <memory>
#include <string>
#include <vector>

#include "worker/data/token_source.h"

namespace dstrain::data {

struct TokenFileOptions {
  std::string path;            // a file, a glob or a folder
  std::string dtype = "auto";  // "auto" | "uint16" | "uint32"
  std::int64_t vocab = 0;      // the model's; 0: not checked against sidecars
};

class TokenFileSource : public TokenSource {
 public:
  static StatusOr<std::unique_ptr<TokenFileSource>> Open(
      const TokenFileOptions& options);
  ~TokenFileSource() override;

  std::int64_t size() const override { return total_; }
  Status Read(std::int64_t begin, std::int64_t count,
              std::int64_t* out) override;
  Status ReadIds(std::int64_t begin, std::int64_t count,
                 std::int32_t* out) override;
  std::string Locate(std::int64_t position) const override;
  bool concurrent_reads() const override { return true; }
  // posix_fadvise(WILLNEED) over the range's bytes.
  void WillNeed(std::int64_t begin, std::int64_t count) override;

  const std::vector<std::string>& files() const;
  int dtype_bytes() const { return dtype_bytes_; }

 private:
  struct Shard {
    std::string path;
    int fd = -1;  // held open; -1: opened for each read (many shards)
    std::size_t bytes = 0;
    std::int64_t first = 0;  // stream position of its first token
    std::int64_t tokens = 0;
  };
  static constexpr std::size_t kHeldOpen = 256;
  TokenFileSource() = default;
  template <typename T>
  Status Copy(std::int64_t begin, std::int64_t count, T* out);

  std::vector<Shard> shards_;
  std::vector<std::string> files_;
  int dtype_bytes_ = 2;
  std::int64_t total_ = 0;
};

// The files `path` names: a glob's matches, a folder's *.bin files, or the
// file itself; in name order.
std::vector<std::string> TokenFilesOf(const std::string& path);

}  // namespace dstrain::data
