#include "worker/checkpoint/manifest.h"

#include <cstdio>
#include <cstdlib>
#include <limits>
#include <map>
#include <optional>
#include <sstream>

#include "common/crc32c.h"
#include "common/fnv1a.h"
#include "common/strings.h"

namespace dstrain::checkpoint {
namespace {

std::string ShapeText(const std::vector<std::int64_t>& shape) {
  std::string s;
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (i > 0) s += 'x';
    s += std::to_string(shape[i]);
  }
  return s.empty() ? "scalar" : s;
}

// Reads the manifest line by line; every error names where:line.
class Reader {
 public:
  Reader(std::string_view text, const std::string& where)
      : text_(text), where_(where) {}

  Status Error(const std::string& what) const {
    return InvalidArgument(where_ + ":" + std::to_string(line_no_) + ": " +
                           what);
  }

  // The next line, which must start with `key` and a space (or be `key`
  // alone when `rest_may_be_empty`); `rest` gets what follows.
  Status Expect(std::string_view key, std::string* rest) {
    if (pos_ >= text_.size()) {
      ++line_no_;
      return Error("ends early: expected `" + std::string(key) +
                   "` (a truncated manifest)");
    }
    const std::size_t nl = text_.find('\n', pos_);
    if (nl == std::string_view::npos) {
      ++line_no_;
      return Error("the last line has no newline (a truncated manifest)");
    }
    line_start_ = pos_;
    std::string_view line = text_.substr(pos_, nl - pos_);
    pos_ = nl + 1;
    ++line_no_;
    if (line.substr(0, key.size()) != key ||
        (line.size() > key.size() && line[key.size()] != ' ') ||
        line.size() <= key.size() + 1) {
      return Error("expected `" + std::string(key) + " ...`, found `" +
                   std::string(line.substr(0, 60)) + "`");
    }
    *rest = std::string(line.substr(key.size() + 1));
    return Status::Ok();
  }

  StatusOr<std::int64_t> Int(
      const std::string& what, const std::string& text, std::int64_t lo,
      std::int64_t hi = std::numeric_limits<std::int64_t>::max()) const {
    const std::optional<std::int64_t> v = ParseInteger<std::int64_t>(text);
    if (!v || *v < lo || *v > hi) {
      return Error(what + " = '" + text + "' is not an integer " +
                   (hi == std::numeric_limits<std::int64_t>::max()
                        ? ">= " + std::to_string(lo)
                        : "between " + std::to_string(lo) + " and " +
                              std::to_string(hi)));
    }
    return *v;
  }

  StatusOr<std::int64_t> IntLine(
      std::string_view key, std::int64_t lo,
      std::int64_t hi = std::numeric_limits<std::int64_t>::max()) {
    std::string rest;
    DSTRAIN_RETURN_IF_ERROR(Expect(key, &rest));
    return Int(std::string(key), rest, lo, hi);
  }

  // `name k1=v1 k2=v2 ...`: the first word and the pairs; every key of
  // `keys` must be present, nothing else.
  Status Fields(const std::string& rest, std::string* first,
                const std::vector<std::string>& keys,
                std::map<std::string, std::string>* out) const {
    std::istringstream in(rest);
    std::string word;
    if (!(in >> *first)) return Error("missing a name");
    while (in >> word) {
      const std::size_t eq = word.find('=');
      if (eq == std::string::npos) return Error("`" + word + "` is not k=v");
      const std::string k = word.substr(0, eq);
      bool known = false;
      for (const std::string& key : keys) known = known || key == k;
      if (!known) return Error("unknown field `" + k + "`");
      (*out)[k] = word.substr(eq + 1);
    }
    for (const std::string& key : keys) {
      if (out->count(key) == 0) return Error("missing field `" + key + "`");
    }
    return Status::Ok();
  }

  std::size_t line_start() const { return line_start_; }
  bool at_end() const { return pos_ >= text_.size(); }

 private:
  std::string_view text_;
  const std::string& where_;
  std::size_t pos_ = 0;
  std::size_t line_start_ = 0;
  int line_no_ = 0;
};

StatusOr<std::vector<std::int64_t>> ParseShape(const Reader& r,
                                               const std::string& text) {
  std::vector<std::int64_t> shape;
  if (text == "scalar") return shape;
  std::size_t start = 0;
  while (true) {
    const std::size_t x = text.find('x', start);
    DSTRAIN_ASSIGN_OR_RETURN(
        std::int64_t d,
        r.Int("shape",
              text.substr(start, x == std::string::npos ? std::string::npos
                                                        : x - start),
              0));
    shape.push_back(d);
    if (x == std::string::npos) break;
    start = x + 1;
  }
  return shape;
}

}  // namespace

std::string SerializeManifest(const Manifest& m) {
  std::ostringstream o;
  o << "dstrain-checkpoint " << m.format_version << "\n";
  o << "job " << m.job_name << "\n";
  o << "model_hash " << m.model_hash << "\n";
  o << "step " << m.step << "\n";
  o << "data_position " << m.data_position << "\n";
  o << "global_batch " << m.global_batch << "\n";
  o << "world_size " << m.world_size << "\n";
  o << "zero_stage " << m.zero_stage << "\n";
  o << "attempt " << m.attempt << "\n";
  o << "optimizer_step " << m.optimizer_step << "\n";
  o << "loss_scaler "
    << (m.loss_scaler ? amp::SerializeLossScalerState(*m.loss_scaler)
                      : std::string("none"))
    << "\n";
  o << "units " << m.units.size() << "\n";
  for (const ManifestUnit& u : m.units) {
    o << "unit " << u.name << " numel=" << u.numel
      << " decay_numel=" << u.decay_numel << " padded=" << u.padded_numel
      << " shard=" << u.shard_numel << "\n";
    for (const ManifestParam& p : u.params) {
      o << "param " << p.name << " shape=" << ShapeText(p.shape)
        << " offset=" << p.offset << "\n";
    }
  }
  o << "shards " << m.shards.size() << "\n";
  for (const ManifestShard& s : m.shards) {
    o << "shard " << s.rank << " file=" << s.file << " bytes=" << s.bytes
      << " crc32c=" << Crc32cHex(s.crc32c) << " rng_bytes=" << s.rng_bytes
      << "\n";
  }
  std::string body = o.str();
  body += "crc32c " + Crc32cHex(Crc32cOf(body.data(), body.size())) + "\n";
  return body;
}

StatusOr<Manifest> ParseManifest(std::string_view text,
                                 const std::string& where) {
  Reader r(text, where);
  Manifest m;
  std::string rest;
  DSTRAIN_ASSIGN_OR_RETURN(std::int64_t version,
                           r.IntLine("dstrain-checkpoint", 1));
  if (version != kFormatVersion) {
    return r.Error("format version " + std::to_string(version) +
                   " is not supported (this build reads " +
                   std::to_string(kFormatVersion) + ")");
  }
  m.format_version = static_cast<int>(version);
  DSTRAIN_RETURN_IF_ERROR(r.Expect("job", &m.job_name));
  DSTRAIN_RETURN_IF_ERROR(r.Expect("model_hash", &m.model_hash));
  auto int_line = [&](std::string_view key, std::int64_t lo, std::int64_t* out,
                      std::int64_t hi =
                          std::numeric_limits<std::int64_t>::max()) -> Status {
    DSTRAIN_ASSIGN_OR_RETURN(*out, r.IntLine(key, lo, hi));
    return Status::Ok();
  };
  std::int64_t world = 0, stage = 0, attempt = 0;
  DSTRAIN_RETURN_IF_ERROR(int_line("step", 0, &m.step));
  DSTRAIN_RETURN_IF_ERROR(int_line("data_position", 0, &m.data_position));
  DSTRAIN_RETURN_IF_ERROR(int_line("global_batch", 1, &m.global_batch));
  // Ints in a Manifest: larger values must not wrap (zero_stage is <= 3).
  constexpr std::int64_t kIntMax = std::numeric_limits<int>::max();
  DSTRAIN_RETURN_IF_ERROR(int_line("world_size", 1, &world, kIntMax));
  DSTRAIN_RETURN_IF_ERROR(int_line("zero_stage", 0, &stage));
  if (stage > 3) return r.Error("zero_stage " + std::to_string(stage) + " > 3");
  DSTRAIN_RETURN_IF_ERROR(int_line("attempt", 0, &attempt, kIntMax));
  m.world_size = static_cast<int>(world);
  m.zero_stage = static_cast<int>(stage);
  m.attempt = static_cast<int>(attempt);
  DSTRAIN_RETURN_IF_ERROR(int_line("optimizer_step", 0, &m.optimizer_step));
  DSTRAIN_RETURN_IF_ERROR(r.Expect("loss_scaler", &rest));
  if (rest != "none") {
    StatusOr<amp::LossScalerState> s = amp::ParseLossScalerState(rest);
    if (!s.ok()) return r.Error(s.status().message());
    m.loss_scaler = *s;
  }

  std::int64_t units = 0;
  DSTRAIN_RETURN_IF_ERROR(int_line("units", 1, &units));
  for (std::int64_t i = 0; i < units; ++i) {
    DSTRAIN_RETURN_IF_ERROR(r.Expect("unit", &rest));
    ManifestUnit u;
    std::map<std::string, std::string> f;
    DSTRAIN_RETURN_IF_ERROR(r.Fields(
        rest, &u.name, {"numel", "decay_numel", "padded", "shard"}, &f));
    std::int64_t* dst[] = {&u.numel, &u.decay_numel, &u.padded_numel,
                           &u.shard_numel};
    const char* keys[] = {"numel", "decay_numel", "padded", "shard"};
    for (int k = 0; k < 4; ++k) {
      DSTRAIN_ASSIGN_OR_RETURN(std::int64_t v, r.Int(keys[k], f[keys[k]], 0));
      *dst[k] = v;
    }
    if (u.padded_numel != u.shard_numel * world || u.padded_numel < u.numel ||
        u.decay_numel > u.numel) {
      return r.Error("unit " + u.name +
                     ": sizes disagree (numel, decay_numel, padded, shard "
                     "and world_size)");
    }
    std::int64_t covered = 0;
    while (covered < u.numel) {
      DSTRAIN_RETURN_IF_ERROR(r.Expect("param", &rest));
      ManifestParam p;
      std::map<std::string, std::string> pf;
      DSTRAIN_RETURN_IF_ERROR(
          r.Fields(rest, &p.name, {"shape", "offset"}, &pf));
      DSTRAIN_ASSIGN_OR_RETURN(std::vector<std::int64_t> shape,
                               ParseShape(r, pf["shape"]));
      p.shape = shape;
      DSTRAIN_ASSIGN_OR_RETURN(std::int64_t off,
                               r.Int("offset", pf["offset"], 0));
      p.offset = off;
      // The product is checked as it grows: a hostile shape must not
      // overflow (it is at most what the unit has left to cover).
      std::int64_t n = 1;
      for (std::int64_t d : p.shape) {
        if (__builtin_mul_overflow(n, d, &n) || n > u.numel - covered) {
          return r.Error("param " + p.name + ": shape " + pf["shape"] +
                         " holds more elements than unit " + u.name +
                         " has left (numel " + std::to_string(u.numel) + ")");
        }
      }
      if (p.offset != covered || n == 0) {
        return r.Error("param " + p.name + " does not follow the previous one");
      }
      covered += n;
      u.params.push_back(std::move(p));
    }
    if (covered != u.numel) {
      return r.Error("unit " + u.name + ": parameters cover " +
                     std::to_string(covered) + " elements, not numel " +
                     std::to_string(u.numel));
    }
    m.units.push_back(std::move(u));
  }

  std::int64_t shards = 0;
  DSTRAIN_RETURN_IF_ERROR(int_line("shards", 1, &shards));
  if (shards != world) {
    return r.Error("shards " + std::to_string(shards) + " != world_size " +
                   std::to_string(world));
  }
  for (std::int64_t i = 0; i < shards; ++i) {
    DSTRAIN_RETURN_IF_ERROR(r.Expect("shard", &rest));
    ManifestShard s;
    std::string rank_text;
    std::map<std::string, std::string> f;
    DSTRAIN_RETURN_IF_ERROR(r.Fields(
        rest, &rank_text, {"file", "bytes", "crc32c", "rng_bytes"}, &f));
    DSTRAIN_ASSIGN_OR_RETURN(std::int64_t rank, r.Int("rank", rank_text, 0));
    if (rank != i) return r.Error("shard " + rank_text + " out of order");
    s.rank = static_cast<int>(rank);
    s.file = f["file"];
    if (s.file.empty() || s.file.find('/') != std::string::npos ||
        s.file == "." || s.file == "..") {
      return r.Error("shard file `" + s.file + "` is not a plain file name");
    }
    DSTRAIN_ASSIGN_OR_RETURN(std::int64_t bytes, r.Int("bytes", f["bytes"], 0));
    s.bytes = bytes;
    DSTRAIN_ASSIGN_OR_RETURN(std::int64_t rng,
                             r.Int("rng_bytes", f["rng_bytes"], 0));
    s.rng_bytes = rng;
    const std::string& c = f["crc32c"];
    char* end = nullptr;
    const unsigned long v = std::strtoul(c.c_str(), &end, 16);
    if (c.size() != 10 || c.substr(0, 2) != "0x" ||
        end != c.c_str() + c.size()) {
      return r.Error("crc32c = '" + c + "' is not 0x and 8 hex digits");
    }
    s.crc32c = static_cast<std::uint32_t>(v);
    m.shards.push_back(std::move(s));
  }

  DSTRAIN_RETURN_IF_ERROR(r.Expect("crc32c", &rest));
  const std::uint32_t want = Crc32cOf(text.data(), r.line_start());
  if (rest != Crc32cHex(want)) {
    return r.Error("checksum " + rest + " does not match the content (" +
                   Crc32cHex(want) + "): the manifest is corrupted");
  }
  if (!r.at_end()) {
    return r.Error("text after the checksum line");
  }
  return m;
}

std::string ModelHash(const config::ModelConfig& model) {
  std::ostringstream o;
  o << model.type << " vocab=" << model.vocab << " layers=" << model.layers
    << " d_model=" << model.d_model << " heads=" << model.heads
    << " seq_len=" << model.seq_len
    << " d_ff=" << (model.d_ff > 0 ? model.d_ff : 4 * model.d_model);
  const std::string s = o.str();
  Fnv1a64 h;
  h.Update(s.data(), s.size());
  return h.Hex();
}

std::string ShardFileName(int rank, int world) {
  return "shard-" + std::to_string(rank) + "-of-" + std::to_string(world) +
         ".bin";
}

}  // namespace dstrain::checkpoint
