#pragma once
// `dstrain data`: preparing, inspecting and checking training data.
//
//   dstrain data prepare INPUT --out FILE [--format tokens|hdf5]
//       [--vocab FILE] [--dtype uint16|uint32] [--dataset NAME]
//       [--chunk TOKENS] [--sample-length L]
//     INPUT: text (a file or a folder, byte-level or with --vocab),
//     a token file (its sidecar, or --dtype) or an HDF5 file (--dataset).
//     Writes a token file with its sidecar, or an HDF5 file with one
//     chunked dataset (1-D, or [samples, L] with --sample-length), through
//     a temporary file renamed at the end; a progress bar on stderr.
//   dstrain data inspect FILE [--dataset NAME] [--vocab FILE]
//       [--samples N] [--json]
//     Shape, dtype, token count, the vocabulary's histogram (over the first
//     16M tokens), the first samples decoded.
//   dstrain data check JOB.yaml [--set k=v]
//     The job's data against its model, every token (the launch checks a
//     sample): exit 0 when every id is below model.vocab.
//   dstrain data read-bench JOB.yaml [--steps N] [--set k=v]
//     The data pipeline alone, as rank 0 of one reads it (sampler, block
//     cache, prefetcher): one JSON line with samples/s and bytes/s.
//
// Exit codes: 0 done; 1 the data is wrong (check) or a write failed; 2 bad
// arguments, an unreadable input or job file.

#include <string>
#include <vector>

namespace dstrain::cli {

struct DataCommandOptions {
  std::string action;  // prepare | inspect | check | read-bench
  std::string input;   // prepare/inspect: a file; check/read-bench: a job
  std::string out;
  std::string format = "tokens";
  std::string vocab;
  std::string dtype;
  std::string dataset = "tokens";
  long long chunk = 1 << 18;
  long long sample_length = 0;
  int samples = 3;
  int steps = 200;
  bool json = false;
  std::vector<std::string> overrides;
};

int RunDataCommand(const DataCommandOptions& options);

}  // namespace dstrain::cli
