#include "worker/data/sidecar.h"

#include <cctype>

namespace dstrain::data {
namespace {

class Reader {
 public:
  Reader(std::string_view t, const std::string& where) : t_(t), where_(where) {}

  Status Error(const std::string& what) const {
    return InvalidArgument(where_ + ":" + std::to_string(pos_ + 1) + ": " +
                           what +
                           " (a token file's sidecar is a flat JSON "
                           "object: {\"dtype\": \"uint16\", \"vocab\": N, "
                           "\"tokens\": N})");
  }
  void Space() {
    while (pos_ < t_.size() &&
           std::isspace(static_cast<unsigned char>(t_[pos_])))
      ++pos_;
  }
  bool Eat(char c) {
    Space();
    if (pos_ < t_.size() && t_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  StatusOr<std::string> String() {
    Space();
    if (pos_ >= t_.size() || t_[pos_] != '"') return Error("expected a string");
    ++pos_;
    std::string s;
    while (pos_ < t_.size() && t_[pos_] != '"') {
      const char c = t_[pos_++];
      if (c == '\\' || static_cast<unsigned char>(c) < 0x20) {
        return Error("escapes and control characters are not expected");
      }
      if (s.size() > 256) return Error("string longer than 256 characters");
      s += c;
    }
    if (pos_ >= t_.size()) return Error("unterminated string");
    ++pos_;
    return s;
  }
  StatusOr<std::int64_t> Integer() {
    Space();
    std::int64_t v = 0;
    std::size_t digits = 0;
    while (pos_ < t_.size() &&
           std::isdigit(static_cast<unsigned char>(t_[pos_]))) {
      if (++digits > 18) return Error("integer too large");
      v = v * 10 + (t_[pos_++] - '0');
    }
    if (digits == 0) return Error("expected a non-negative integer");
    return v;
  }
  bool AtEnd() {
    Space();
    return pos_ == t_.size();
  }
  bool PeekString() {
    Space();
    return pos_ < t_.size() && t_[pos_] == '"';
  }

 private:
  std::string_view t_;
  const std::string& where_;
  std::size_t pos_ = 0;
};

}  // namespace

int DtypeBytes(std::string_view dtype) {
  return dtype == "uint16" ? 2 : dtype == "uint32" ? 4 : 0;
}

StatusOr<Sidecar> ParseSidecar(std::string_view text,
                               const std::string& where) {
  Reader r(text, where);
  if (text.size() > 64 * 1024) return r.Error("larger than 64 KiB");
  Sidecar s;
  if (!r.Eat('{')) return r.Error("expected `{`");
  bool first = true;
  while (!r.Eat('}')) {
    if (!first && !r.Eat(',')) return r.Error("expected `,` or `}`");
    first = false;
    DSTRAIN_ASSIGN_OR_RETURN(std::string key, r.String());
    if (!r.Eat(':')) return r.Error("expected `:` after \"" + key + "\"");
    if (r.PeekString()) {
      DSTRAIN_ASSIGN_OR_RETURN(std::string v, r.String());
      if (key == "dtype") {
        if (DtypeBytes(v) == 0) {
          return r.Error("dtype \"" + v + "\": expected uint16 or uint32");
        }
        s.dtype = v;
      }
    } else {
      DSTRAIN_ASSIGN_OR_RETURN(std::int64_t v, r.Integer());
      if (key == "vocab") s.vocab = v;
      if (key == "tokens") s.tokens = v;
    }
  }
  if (!r.AtEnd()) return r.Error("text after the object");
  return s;
}

std::string SidecarJson(const Sidecar& s) {
  std::string out = "{\"dtype\": \"" + s.dtype + "\"";
  if (s.vocab > 0) out += ", \"vocab\": " + std::to_string(s.vocab);
  if (s.tokens >= 0) out += ", \"tokens\": " + std::to_string(s.tokens);
  return out + "}\n";
}

}  // namespace dstrain::data
