#include "worker/data/open_dataset.h"

#include <algorithm>
#include <cstdio>
#include <vector>

#include "worker/data/block_cache.h"
#include "worker/data/byte_source.h"
#include "worker/data/hdf5_source.h"
#include "worker/data/synthetic_source.h"
#include "worker/data/text_dataset.h"
#include "worker/data/token_file_source.h"

namespace dstrain::data {
namespace {

std::string Count(std::int64_t n) {
  char b[32];
  if (n >= 1'000'000'000) {
    std::snprintf(b, sizeof b, "%.2fB", n / 1e9);
  } else if (n >= 1'000'000) {
    std::snprintf(b, sizeof b, "%.1fM", n / 1e6);
  } else {
    std::snprintf(b, sizeof b, "%lld", static_cast<long long>(n));
  }
  return b;
}

std::string Files(std::size_t n, const char* what) {
  return std::to_string(n) + " " + what + (n == 1 ? "" : "s");
}

}  // namespace

SamplerOptions SamplerOptionsFor(const config::JobConfig& job,
                                 const TokenSource& source) {
  SamplerOptions o;
  o.window = job.model.seq_len + 1;
  o.seed = job.train.seed;
  o.row_length = source.row_length();
  o.block_tokens = job.data.shuffle_block;
  o.group_blocks = job.data.shuffle_group;
  return o;
}

Status CheckTokenIds(
    TokenSource& source, std::int64_t vocab, bool full,
    const std::function<void(std::int64_t, std::int64_t)>& progress) {
  const std::int64_t total = source.size();
  constexpr std::int64_t kRun = 4096;
  std::vector<std::int64_t> buf;
  auto check = [&](std::int64_t begin, std::int64_t n) -> Status {
    buf.resize(static_cast<std::size_t>(n));
    DSTRAIN_RETURN_IF_ERROR(source.Read(begin, n, buf.data()));
    for (std::int64_t k = 0; k < n; ++k) {
      const std::int64_t id = buf[static_cast<std::size_t>(k)];
      if (id < 0 || id >= vocab) {
        return InvalidArgument(
            "token id " + std::to_string(id) + " at " +
            source.Locate(begin + k) + " is " +
            (id < 0 ? std::string("negative")
                    : "not below model.vocab " + std::to_string(vocab)) +
            "; raise model.vocab, or re-tokenise the data");
      }
    }
    return Status::Ok();
  };
  if (full) {
    const std::int64_t step = std::int64_t{1} << 20;
    for (std::int64_t b = 0; b < total; b += step) {
      DSTRAIN_RETURN_IF_ERROR(check(b, std::min(step, total - b)));
      if (progress) progress(std::min(total, b + step), total);
    }
    return Status::Ok();
  }
  constexpr int kProbes = 64;
  for (int i = 0; i < kProbes; ++i) {
    const std::int64_t n = std::min(kRun, total);
    const std::int64_t begin = total <= n ? 0 : (total - n) / (kProbes - 1) * i;
    DSTRAIN_RETURN_IF_ERROR(check(begin, n));
  }
  return Status::Ok();
}

StatusOr<Dataset> OpenDataset(const config::JobConfig& job) {
  const config::DataConfig& d = job.data;
  Dataset out;
  std::unique_ptr<TokenSource> source;
  if (d.type == "text") {
    DSTRAIN_ASSIGN_OR_RETURN(std::unique_ptr<TextDataset> text,
                             TextDataset::Open(d.path));
    out.files = static_cast<int>(text->files().size());
    source = std::make_unique<ByteSource>(std::move(text));
    out.description =
        Files(out.files, "text file") + ", " + Count(source->size()) + " bytes";
  } else if (d.type == "tokens") {
    TokenFileOptions o;
    o.path = d.path;
    o.dtype = d.dtype;
    o.vocab = job.model.vocab;
    DSTRAIN_ASSIGN_OR_RETURN(std::unique_ptr<TokenFileSource> files,
                             TokenFileSource::Open(o));
    out.files = static_cast<int>(files->files().size());
    out.token_bytes = files->dtype_bytes();
    out.description = Files(files->files().size(), "token file") + ", " +
                      Count(files->size()) + " uint" +
                      std::to_string(8 * files->dtype_bytes()) + " tokens";
    source = std::move(files);
  } else if (d.type == "hdf5") {
    Hdf5Options o;
    o.path = d.path;
    o.datasets = d.dataset;
    DSTRAIN_ASSIGN_OR_RETURN(std::unique_ptr<Hdf5Source> h5,
                             Hdf5Source::Open(o));
    out.files = static_cast<int>(Hdf5FilesOf(d.path).size());
    out.token_bytes = h5->dtype().find("32") != std::string::npos   ? 4
                      : h5->dtype().find("64") != std::string::npos ? 8
                      : h5->dtype().find("16") != std::string::npos ? 2
                                                                    : 1;
    out.description =
        Files(static_cast<std::size_t>(out.files), "HDF5 file") + ", " +
        Count(h5->size()) + " " + h5->dtype() + " tokens" +
        (h5->row_length() > 0
             ? " in samples of " + std::to_string(h5->row_length())
             : std::string());
    source = std::move(h5);
  } else if (d.type == "synthetic") {
    source = std::make_unique<SyntheticSource>(d.synthetic_tokens,
                                               job.model.vocab, job.train.seed);
    out.description = Count(d.synthetic_tokens) + " synthetic tokens";
    out.token_bytes = 0;
  } else {
    return InvalidArgument("data.type " + d.type + ": not a data type");
  }

  const std::int64_t window = job.model.seq_len + 1;
  if (source->row_length() > 0 && source->row_length() < window) {
    return InvalidArgument(
        "model.seq_len " + std::to_string(job.model.seq_len) +
        " needs windows of " + std::to_string(window) + " tokens, but " +
        d.path + " holds samples of " + std::to_string(source->row_length()) +
        "; lower model.seq_len or write longer samples");
  }
  if (source->size() < 2 * window) {
    return InvalidArgument(
        d.path + " holds " + std::to_string(source->size()) +
        " tokens, fewer than two windows of model.seq_len + 1 = " +
        std::to_string(window) + "; lower model.seq_len or give more data");
  }
  DSTRAIN_RETURN_IF_ERROR(CheckTokenIds(*source, job.model.vocab, false));
  if (d.type == "tokens" || d.type == "hdf5") {
    // A rank reads the blocks of one shuffle group while its readers load
    // the next group's. The sampler's blocks start at the epoch's shift,
    // so each covers parts of the cache's: cache blocks a quarter of the
    // size keep what is read but not used under a quarter, and five per
    // shuffle block hold a group; two groups (plus two blocks) are cached.
    source = std::make_unique<BlockCache>(
        std::move(source), std::max(1, d.shuffle_block / 4),
        2 * 5 * d.shuffle_group + 2, d.read_threads);
  }
  out.source = std::move(source);
  return out;
}

}  // namespace dstrain::data
