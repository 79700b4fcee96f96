#pragma once
// The job's `data:` section opened as a token stream, checked against the
// model before any rank trains — what both `dstrain launch` (before it
// starts anything) and every worker call:
//   text       the corpus' bytes (vocabulary 256)
//   tokens     token files (token_file_source.h)
//   hdf5       HDF5 datasets (hdf5_source.h)
//   synthetic  generated tokens (synthetic_source.h)
// File-backed sources are read through a block cache of quarter shuffle
// blocks that holds a whole shuffle group (block_cache.h). The checks:
// what each source checks when it opens; a window of seq_len + 1 tokens
// must fit the data (a row, for 2-D HDF5); token ids must be below
// model.vocab on a sample of 64 places spread over the data
// (CheckTokenIds(..., full) reads all).
// Errors name the file (and the offset where it applies). No torch.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "common/config/job_config.h"
#include "common/status.h"
#include "worker/data/sampler.h"
#include "worker/data/token_source.h"

namespace dstrain::data {

struct Dataset {
  std::unique_ptr<TokenSource> source;
  // "3 token files, 12.6M uint16 tokens", for the worker's setup line.
  std::string description;
  int files = 0;
  int token_bytes = 1;  // on disk: 1 for text, 2 or 4 for uint16/uint32
};

StatusOr<Dataset> OpenDataset(const config::JobConfig& job);

// The sampler the job's data gets: windows of seq_len + 1, its shuffle
// blocks and groups, rows when the source has them.
SamplerOptions SamplerOptionsFor(const config::JobConfig& job,
                                 const TokenSource& source);

// Every token id in [0, vocab): all of them (`full`, reporting progress as
// tokens read so far), or 64 runs of 4096 spread over the data.
// INVALID_ARGUMENT names the first offending id and where it is.
Status CheckTokenIds(
    TokenSource& source, std::int64_t vocab, bool full,
    const std::function<void(std::int64_t done, std::int64_t total)>& progress =
        {});

}  // namespace dstrain::data
