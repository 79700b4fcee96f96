#pragma once
// A dataset as the training loop sees it: one stream of token ids, read by
// position. Behind it: the bytes of a text corpus, flat token files, HDF5
// datasets, or generated tokens (open_dataset.h picks one from the job).
//
// A stream may be made of fixed-length rows (an HDF5 dataset of shape
// [samples, length]): then each row is one sample and windows never cross
// rows (row_length() > 0).
//
// Read() may be called from one thread at a time (the prefetcher's),
// unless concurrent_reads() says a source allows more; different sources
// are independent. No torch.

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"

namespace dstrain::data {

class TokenSource {
 public:
  virtual ~TokenSource() = default;

  // Tokens in the stream.
  virtual std::int64_t size() const = 0;
  // > 0: the stream is rows of this many tokens, one sample each.
  virtual std::int64_t row_length() const { return 0; }
  // Tokens [begin, begin + count) into `out`, widened. An I/O error names
  // the file and the offset.
  virtual Status Read(std::int64_t begin, std::int64_t count,
                      std::int64_t* out) = 0;
  // The same into 32-bit ids (token ids are below model.vocab, an int),
  // for the block cache: half the memory traffic of Read. The default
  // reads through Read.
  virtual Status ReadIds(std::int64_t begin, std::int64_t count,
                         std::int32_t* out);
  // Where a position lives, for messages: "train-003.bin at token 81920".
  virtual std::string Locate(std::int64_t position) const = 0;
  // The best size of one read (an HDF5 chunk): reads of whole multiples
  // of it, aligned to it, cost the least. 0: any.
  virtual std::int64_t preferred_read() const { return 0; }
  // Whether Read and ReadIds may run on several threads at once (the
  // block cache's readers use that to keep several reads in flight).
  virtual bool concurrent_reads() const { return false; }
  // A hint that tokens [begin, begin + count) will be read soon: a
  // file-backed source asks the kernel to start reading them in the
  // background, so many reads are in flight at once. No-op by default.
  virtual void WillNeed(std::int64_t begin, std::int64_t count) {
    (void)begin;
    (void)count;
  }
};

}  // namespace dstrain::data
