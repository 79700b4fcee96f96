#include "cli/data/vocab_tokenizer.h"

#include <algorithm>
#include <cstdio>

#include "common/read_file.h"

namespace dstrain::cli {
namespace {

int Hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

StatusOr<VocabTokenizer> VocabTokenizer::Load(const std::string& path) {
  DSTRAIN_ASSIGN_OR_RETURN(
      std::string text,
      ReadConfigFile(path, std::size_t{64} << 20, "vocabulary file"));
  return Parse(text, path);
}

StatusOr<VocabTokenizer> VocabTokenizer::Parse(std::string_view text,
                                               const std::string& where) {
  VocabTokenizer v;
  v.trie_.emplace_back();
  std::size_t pos = 0;
  int line = 0;
  while (pos < text.size()) {
    ++line;
    std::size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view raw = text.substr(pos, end - pos);
    pos = end + 1;
    auto bad = [&](const std::string& why) {
      return InvalidArgument(where + ":" + std::to_string(line) + ": " + why +
                             " (one token per line; escapes \\n \\t \\r \\\\ "
                             "\\xHH)");
    };
    std::string tok;
    for (std::size_t i = 0; i < raw.size(); ++i) {
      if (raw[i] != '\\') {
        tok += raw[i];
        continue;
      }
      if (++i >= raw.size()) return bad("a `\\` ends the line");
      switch (raw[i]) {
        case 'n':
          tok += '\n';
          break;
        case 't':
          tok += '\t';
          break;
        case 'r':
          tok += '\r';
          break;
        case '\\':
          tok += '\\';
          break;
        case 'x': {
          if (i + 2 >= raw.size() || Hex(raw[i + 1]) < 0 ||
              Hex(raw[i + 2]) < 0) {
            return bad("`\\x` needs two hex digits");
          }
          tok += static_cast<char>(Hex(raw[i + 1]) * 16 + Hex(raw[i + 2]));
          i += 2;
          break;
        }
        default:
          return bad(std::string("unknown escape `\\") + raw[i] + "`");
      }
    }
    if (tok.empty()) return bad("an empty token");
    if (v.tokens_.size() >= (std::size_t{1} << 24)) {
      return bad("more than 2^24 tokens");
    }
    std::int32_t node = 0;
    for (unsigned char c : tok) {
      std::int32_t next = v.Child(node, c);
      if (next < 0) {
        next = static_cast<std::int32_t>(v.trie_.size());
        auto& kids = v.trie_[static_cast<std::size_t>(node)].next;
        kids.insert(std::lower_bound(kids.begin(), kids.end(),
                                     std::make_pair(c, std::int32_t{-1})),
                    {c, next});
        v.trie_.emplace_back();
      }
      node = next;
    }
    if (v.trie_[static_cast<std::size_t>(node)].id >= 0) {
      return bad("duplicate token (also id " +
                 std::to_string(v.trie_[static_cast<std::size_t>(node)].id) +
                 ")");
    }
    v.trie_[static_cast<std::size_t>(node)].id =
        static_cast<std::int32_t>(v.tokens_.size());
    v.tokens_.push_back(std::move(tok));
  }
  if (v.tokens_.empty()) return InvalidArgument(where + ": no tokens");
  return v;
}

std::int32_t VocabTokenizer::Child(std::int32_t node, unsigned char c) const {
  const auto& kids = trie_[static_cast<std::size_t>(node)].next;
  auto it = std::lower_bound(kids.begin(), kids.end(),
                             std::make_pair(c, std::int32_t{-1}));
  return it != kids.end() && it->first == c ? it->second : -1;
}

Status VocabTokenizer::Encode(std::string_view text, std::int64_t offset,
                              std::vector<std::int64_t>* out) const {
  std::size_t i = 0;
  while (i < text.size()) {
    std::int32_t node = 0, best = -1;
    std::size_t best_len = 0;
    for (std::size_t k = i; k < text.size(); ++k) {
      node = Child(node, static_cast<unsigned char>(text[k]));
      if (node < 0) break;
      if (trie_[static_cast<std::size_t>(node)].id >= 0) {
        best = trie_[static_cast<std::size_t>(node)].id;
        best_len = k - i + 1;
      }
    }
    if (best < 0) {
      char b[8];
      std::snprintf(b, sizeof b, "0x%02X", static_cast<unsigned char>(text[i]));
      return InvalidArgument(
          "byte " + std::string(b) + " at offset " +
          std::to_string(offset + static_cast<std::int64_t>(i)) +
          " starts no token of the vocabulary; add "
          "single-byte tokens (\\xHH) to cover every byte");
    }
    out->push_back(best);
    i += best_len;
  }
  return Status::Ok();
}

}  // namespace dstrain::cli
