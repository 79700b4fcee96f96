#include "cli/commands/data.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <vector>

#include "cli/data/vocab_tokenizer.h"
#include "common/config/job_config_loader.h"
#include "common/json_writer.h"
#include "common/units.h"
#include "worker/data/batch_prefetcher.h"
#include "worker/data/block_cache.h"
#include "worker/data/byte_source.h"
#include "worker/data/dataset_writers.h"
#include "worker/data/hdf5_source.h"
#include "worker/data/memory_source.h"
#include "worker/data/open_dataset.h"
#include "worker/data/sidecar.h"
#include "worker/data/text_dataset.h"
#include "worker/data/token_file_source.h"

namespace dstrain::cli {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr int kExitData = 1;
constexpr int kExitUsage = 2;

int Usage(const std::string& m) {
  std::fprintf(stderr, "dstrain data: %s\n", m.c_str());
  return kExitUsage;
}

bool IsHdf5File(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  char magic[8] = {};
  in.read(magic, 8);
  return in.gcount() == 8 && std::string(magic, 8) == "\x89HDF\r\n\x1a\n";
}

// A progress bar on stderr: redrawn in place on a terminal, a line per
// tenth elsewhere.
class ProgressBar {
 public:
  explicit ProgressBar(std::string what)
      : what_(std::move(what)), tty_(isatty(2) == 1), start_(Clock::now()) {}
  void operator()(std::int64_t done, std::int64_t total) {
    const double f = total > 0 ? static_cast<double>(done) / total : 1;
    const int tenth = static_cast<int>(f * 10);
    if (!tty_ && tenth == last_tenth_ && done < total) return;
    last_tenth_ = tenth;
    const double s =
        std::chrono::duration<double>(Clock::now() - start_).count();
    const int width = 30;
    const int fill = static_cast<int>(f * width);
    std::fprintf(
        stderr, "%s%s [%s%s] %3.0f%%  %s/%s tokens  %s tokens/s%s",
        tty_ ? "\r" : "", what_.c_str(),
        std::string(static_cast<std::size_t>(fill), '#').c_str(),
        std::string(static_cast<std::size_t>(width - fill), '-').c_str(),
        100 * f, FormatRate(static_cast<double>(done)).c_str(),
        FormatRate(static_cast<double>(total)).c_str(),
        FormatRate(s > 0 ? done / s : 0).c_str(), tty_ ? "" : "\n");
    if (tty_ && done >= total) std::fputc('\n', stderr);
    std::fflush(stderr);
  }

 private:
  std::string what_;
  bool tty_;
  Clock::time_point start_;
  int last_tenth_ = -1;
};

struct Input {
  std::unique_ptr<data::TokenSource> source;
  std::string kind;   // "text", "tokens", "hdf5"
  std::string dtype;  // of the input's ids, when known
  std::int64_t vocab = 0;
};

StatusOr<Input> OpenInput(const DataCommandOptions& o,
                          const VocabTokenizer* vocab) {
  Input in;
  std::error_code ec;
  if (!fs::exists(o.input, ec)) {
    return InvalidArgument(o.input + ": no such file or folder");
  }
  if (fs::is_regular_file(o.input, ec) && IsHdf5File(o.input)) {
    data::Hdf5Options h;
    h.path = o.input;
    h.datasets = o.dataset;
    DSTRAIN_ASSIGN_OR_RETURN(std::unique_ptr<data::Hdf5Source> s,
                             data::Hdf5Source::Open(h));
    in.dtype = s->dtype();
    in.source = std::move(s);
    in.kind = "hdf5";
    return in;
  }
  if (fs::exists(o.input + ".json", ec) ||
      (!o.dtype.empty() && fs::path(o.input).extension() == ".bin")) {
    data::TokenFileOptions t;
    t.path = o.input;
    t.dtype = o.dtype.empty() ? "auto" : o.dtype;
    DSTRAIN_ASSIGN_OR_RETURN(std::unique_ptr<data::TokenFileSource> s,
                             data::TokenFileSource::Open(t));
    in.dtype = s->dtype_bytes() == 2 ? "uint16" : "uint32";
    in.source = std::move(s);
    in.kind = "tokens";
    return in;
  }
  DSTRAIN_ASSIGN_OR_RETURN(std::unique_ptr<data::TextDataset> text,
                           data::TextDataset::Open(o.input));
  in.kind = "text";
  if (vocab == nullptr) {
    in.vocab = 256;
    in.source = std::make_unique<data::ByteSource>(std::move(text));
    return in;
  }
  std::vector<std::int64_t> ids;
  const auto bytes = text->bytes();
  const std::size_t step = std::size_t{1} << 24;
  ProgressBar bar("tokenise");
  std::size_t b = 0;
  while (b < bytes.size()) {
    // Cut at a newline so no token straddles two pieces.
    std::size_t e = std::min(bytes.size(), b + step);
    while (e < bytes.size() && e > b && bytes[e - 1] != '\n') --e;
    if (e == b) e = std::min(bytes.size(), b + step);
    DSTRAIN_RETURN_IF_ERROR(vocab->Encode(
        std::string_view(reinterpret_cast<const char*>(bytes.data()) + b,
                         e - b),
        static_cast<std::int64_t>(b), &ids));
    bar(static_cast<std::int64_t>(e), static_cast<std::int64_t>(bytes.size()));
    b = e;
  }
  in.vocab = vocab->size();
  in.source = std::make_unique<data::MemorySource>(std::move(ids));
  return in;
}

int Prepare(const DataCommandOptions& o) {
  if (o.out.empty()) return Usage("prepare: give --out FILE");
  if (o.format != "tokens" && o.format != "hdf5") {
    return Usage("--format " + o.format + ": tokens or hdf5");
  }
  std::optional<VocabTokenizer> vocab;
  if (!o.vocab.empty()) {
    StatusOr<VocabTokenizer> v = VocabTokenizer::Load(o.vocab);
    if (!v.ok()) return Usage(v.status().message());
    vocab = std::move(v).value();
  }
  StatusOr<Input> in = OpenInput(o, vocab ? &*vocab : nullptr);
  if (!in.ok()) return Usage(in.status().message());
  std::string dtype = o.dtype;
  if (dtype.empty()) {
    dtype = in->dtype == "uint32" || in->vocab > 65536 ? "uint32" : "uint16";
  }
  ProgressBar bar("write " + o.out);
  Status s;
  if (o.format == "tokens") {
    s = data::WriteTokenFile(o.out, *in->source, dtype, in->vocab,
                             std::ref(bar));
  } else {
    data::Hdf5WriteOptions h;
    h.dtype = dtype;
    h.chunk_tokens = o.chunk;
    h.row_length = o.sample_length;
    h.dataset = o.dataset;
    s = data::WriteHdf5(o.out, *in->source, h, std::ref(bar));
  }
  if (!s.ok()) {
    std::fprintf(stderr, "dstrain data prepare: %s\n", s.message().c_str());
    return kExitData;
  }
  std::printf("wrote %s: %lld %s tokens from %s (%s)\n", o.out.c_str(),
              static_cast<long long>(in->source->size()), dtype.c_str(),
              o.input.c_str(), in->kind.c_str());
  return 0;
}

std::string Decode(const std::vector<std::int64_t>& ids,
                   const VocabTokenizer* vocab, std::int64_t vocab_size) {
  std::string out;
  if (vocab == nullptr && vocab_size > 256) {
    for (std::size_t i = 0; i < ids.size(); ++i) {
      out += (i ? " " : "") + std::to_string(ids[i]);
    }
    return out;
  }
  std::string raw;
  for (std::int64_t id : ids) {
    if (vocab != nullptr && id >= 0 && id < vocab->size()) {
      raw += vocab->token(id);
    } else {
      raw += static_cast<char>(id);
    }
  }
  for (unsigned char c : raw) {
    if (c == '\n') {
      out += "\\n";
    } else if (c < 0x20 || c == 0x7f) {
      char b[8];
      std::snprintf(b, sizeof b, "\\x%02x", c);
      out += b;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

int Inspect(const DataCommandOptions& o) {
  std::optional<VocabTokenizer> vocab;
  if (!o.vocab.empty()) {
    StatusOr<VocabTokenizer> v = VocabTokenizer::Load(o.vocab);
    if (!v.ok()) return Usage(v.status().message());
    vocab = std::move(v).value();
  }
  DataCommandOptions plain = o;
  plain.vocab.clear();
  StatusOr<Input> in = OpenInput(plain, nullptr);
  if (!in.ok()) return Usage(in.status().message());
  data::TokenSource& src = *in->source;
  const std::int64_t total = src.size();
  const std::int64_t scan = std::min<std::int64_t>(total, 1 << 24);
  std::map<std::int64_t, std::int64_t> counts;
  std::vector<std::int64_t> buf;
  std::int64_t max_id = 0;
  for (std::int64_t b = 0; b < scan; b += 1 << 20) {
    const std::int64_t n = std::min<std::int64_t>(1 << 20, scan - b);
    buf.resize(static_cast<std::size_t>(n));
    Status s = src.Read(b, n, buf.data());
    if (!s.ok()) return Usage(s.message());
    for (std::int64_t id : buf) {
      ++counts[id];
      max_id = std::max(max_id, id);
    }
  }
  std::vector<std::pair<std::int64_t, std::int64_t>> top(counts.begin(),
                                                         counts.end());
  std::sort(top.begin(), top.end(),
            [](const auto& a, const auto& b) { return a.second > b.second; });
  if (top.size() > 10) top.resize(10);
  const std::int64_t sample = src.row_length() > 0
                                  ? src.row_length()
                                  : std::min<std::int64_t>(64, total);
  std::vector<std::vector<std::int64_t>> samples;
  for (int i = 0; i < o.samples && (i + 1) * sample <= total; ++i) {
    std::vector<std::int64_t> s(static_cast<std::size_t>(sample));
    if (!src.Read(i * sample, sample, s.data()).ok()) break;
    samples.push_back(std::move(s));
  }
  const std::int64_t vsize =
      vocab ? vocab->size() : std::max<std::int64_t>(in->vocab, max_id + 1);
  if (o.json) {
    JsonWriter w;
    w.BeginObject();
    w.Key("file").String(o.input);
    w.Key("kind").String(in->kind);
    w.Key("dtype").String(in->dtype.empty() ? "uint8" : in->dtype);
    w.Key("tokens").Int(total);
    w.Key("sample_length").Int(src.row_length());
    w.Key("scanned").Int(scan);
    w.Key("distinct").Int(static_cast<std::int64_t>(counts.size()));
    w.Key("max_id").Int(max_id);
    w.Key("top").BeginArray();
    for (const auto& [id, n] : top) {
      w.BeginObject().Key("id").Int(id).Key("count").Int(n).EndObject();
    }
    w.EndArray();
    w.Key("samples").BeginArray();
    for (const auto& s : samples)
      w.String(Decode(s, vocab ? &*vocab : nullptr, vsize));
    w.EndArray();
    w.EndObject();
    std::printf("%s\n", w.str().c_str());
    return 0;
  }
  std::printf(
      "%s: %s, %s, %lld tokens%s\n", o.input.c_str(), in->kind.c_str(),
      in->dtype.empty() ? "bytes" : in->dtype.c_str(),
      static_cast<long long>(total),
      src.row_length() > 0
          ? (" in samples of " + std::to_string(src.row_length())).c_str()
          : " (one stream)");
  std::printf(
      "vocabulary over the first %lld tokens: %zu distinct ids, the "
      "largest %lld\n",
      static_cast<long long>(scan), counts.size(),
      static_cast<long long>(max_id));
  std::printf("most frequent:");
  for (const auto& [id, n] : top) {
    std::printf(" %lld (%.1f%%)", static_cast<long long>(id),
                100.0 * static_cast<double>(n) / static_cast<double>(scan));
  }
  std::printf("\nfirst samples (%lld tokens each):\n",
              static_cast<long long>(sample));
  for (std::size_t i = 0; i < samples.size(); ++i) {
    std::printf("  [%zu] %s\n", i,
                Decode(samples[i], vocab ? &*vocab : nullptr, vsize).c_str());
  }
  return 0;
}

int Check(const DataCommandOptions& o) {
  StatusOr<config::JobConfig> job = config::LoadJobFile(o.input, o.overrides);
  if (!job.ok()) {
    std::fprintf(stderr, "%s\n", job.status().message().c_str());
    return kExitUsage;
  }
  StatusOr<data::Dataset> d = data::OpenDataset(*job);
  if (!d.ok()) {
    std::fprintf(stderr, "dstrain data check: %s\n",
                 d.status().message().c_str());
    return kExitData;
  }
  ProgressBar bar("check");
  Status s =
      data::CheckTokenIds(*d->source, job->model.vocab, true, std::ref(bar));
  if (!s.ok()) {
    std::fprintf(stderr, "dstrain data check: %s\n", s.message().c_str());
    return kExitData;
  }
  std::printf("ok: %s, every id below model.vocab %d\n", d->description.c_str(),
              job->model.vocab);
  return 0;
}

int ReadBench(const DataCommandOptions& o) {
  StatusOr<config::JobConfig> job = config::LoadJobFile(o.input, o.overrides);
  if (!job.ok()) {
    std::fprintf(stderr, "%s\n", job.status().message().c_str());
    return kExitUsage;
  }
  const auto t0 = Clock::now();
  StatusOr<data::Dataset> d = data::OpenDataset(*job);
  if (!d.ok()) return Usage(d.status().message());
  auto sampler = data::WindowSampler::Create(
      d->source->size(), data::SamplerOptionsFor(*job, *d->source));
  if (!sampler.ok()) return Usage(sampler.status().message());
  const auto t1 = Clock::now();
  data::BatchLayout layout{1, 0, job->train.micro_batch, 1};
  std::int64_t samples = 0;
  {
    data::BatchPrefetcher p(*d->source, std::move(sampler).value(), layout,
                            job->model.seq_len, 0, o.steps, job->data.prefetch);
    for (int s = 0; s < o.steps; ++s) {
      data::MicroBatch mb = p.Next();
      if (!mb.status.ok()) return Usage(mb.status.message());
      samples += static_cast<std::int64_t>(mb.samples.size());
      p.Recycle(std::move(mb.tokens));
    }
  }
  const double secs = std::chrono::duration<double>(Clock::now() - t1).count();
  auto* cache = dynamic_cast<data::BlockCache*>(d->source.get());
  const int elem = d->token_bytes;
  const double read_bytes =
      cache != nullptr
          ? static_cast<double>(cache->loads() * cache->block_tokens() * elem)
          : static_cast<double>(samples * (job->model.seq_len + 1) * elem);
  JsonWriter w;
  w.BeginObject();
  w.Key("samples").Int(samples);
  w.Key("open_s").Number(std::chrono::duration<double>(t1 - t0).count());
  w.Key("seconds").Number(secs);
  w.Key("samples_per_s").Number(samples / secs);
  w.Key("tokens_per_s").Number(samples * (job->model.seq_len + 1) / secs);
  w.Key("read_bytes").Number(read_bytes);
  w.Key("read_bytes_per_s").Number(read_bytes / secs);
  w.EndObject();
  std::printf("%s\n", w.str().c_str());
  return 0;
}

}  // namespace

int RunDataCommand(const DataCommandOptions& o) {
  if (o.action == "prepare") return Prepare(o);
  if (o.action == "inspect") return Inspect(o);
  if (o.action == "check") return Check(o);
  if (o.action == "read-bench") return ReadBench(o);
  return Usage("unknown action " + o.action);
}

}  // namespace dstrain::cli
