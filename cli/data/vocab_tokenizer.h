#pragma once
// Text to token ids with a given vocabulary, for `dstrain data prepare
// --vocab FILE`: one token per line (line N is id N), written as UTF-8 with
// the escapes \n, \t, \r, \\ and \xHH for any byte; greedy longest match
// from the left, as WordPiece without its prefixes. A byte that starts no
// token is an error naming its offset (add single-byte tokens to cover
// every byte). Pure apart from reading the file; thread-compatible.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace dstrain::cli {

class VocabTokenizer {
 public:
  // INVALID_ARGUMENT names FILE:line for a bad escape, an empty or
  // duplicate token; the file is at most 64 MiB and 2^24 tokens.
  static StatusOr<VocabTokenizer> Load(const std::string& path);
  static StatusOr<VocabTokenizer> Parse(std::string_view text,
                                        const std::string& where);

  std::int64_t size() const {
    return static_cast<std::int64_t>(tokens_.size());
  }
  const std::string& token(std::int64_t id) const {
    return tokens_[static_cast<std::size_t>(id)];
  }

  // Appends the ids of `text` (which starts at `offset` in the input, for
  // errors) to `out`.
  Status Encode(std::string_view text, std::int64_t offset,
                std::vector<std::int64_t>* out) const;

 private:
  struct Node {
    std::int32_t id = -1;
    std::vector<std::pair<unsigned char, std::int32_t>> next;  // sorted
  };
  std::int32_t Child(std::int32_t node, unsigned char c) const;

  std::vector<std::string> tokens_;
  std::vector<Node> trie_;
};

}  // namespace dstrain::cli
