#pragma once
// `data.type: hdf5`: token ids in HDF5 datasets, read through the HDF5 C
// library. Each file (a glob or a folder's *.h5 / *.hdf5, name order) holds
// the datasets `data.dataset` names (comma-separated); all are read as one
// stream. A dataset is either 1-D (a stream of tokens) or 2-D [samples,
// length] (fixed-length samples: each row one sample, row_length() > 0),
// of any integer type; chunked as h5py writes with create_dataset(...,
// chunks=...), or contiguous. preferred_read() is the chunk, so the
// caching reader in front (block_cache.h) reads whole chunks.
//
// Open checks each file and dataset before anything reads it: a missing or
// unreadable file (truncated: HDF5's own reason is given), a missing
// dataset (the file's datasets are listed), a non-integer dtype, a rank
// other than 1 or 2, rows of different lengths. Errors name the file and
// dataset.
//
// Uncompressed little-endian datasets (what h5py writes unless asked to
// compress), chunked in whole rows or contiguous, are read raw: a chunk at
// a time with H5Dread_chunk, contiguous data with pread, and widened here.
// Others go through H5Dread.
//
// The HDF5 library is not thread-safe: every call into it, from any
// instance, holds one process-wide lock. Reads are thread-safe
// (concurrent_reads()); contiguous ones run in parallel. Built without
// HDF5, Open says so.

#include <memory>
#include <string>
#include <vector>

#include "worker/data/token_source.h"

namespace dstrain::data {

struct Hdf5Options {
  std::string path;                 // a file, a glob or a folder
  std::string datasets = "tokens";  // comma-separated
};

class Hdf5Source : public TokenSource {
 public:
  static StatusOr<std::unique_ptr<Hdf5Source>> Open(const Hdf5Options& o);
  ~Hdf5Source() override;

  std::int64_t size() const override { return total_; }
  std::int64_t row_length() const override { return row_length_; }
  Status Read(std::int64_t begin, std::int64_t count,
              std::int64_t* out) override;
  Status ReadIds(std::int64_t begin, std::int64_t count,
                 std::int32_t* out) override;
  std::string Locate(std::int64_t position) const override;
  std::int64_t preferred_read() const override { return chunk_tokens_; }
  bool concurrent_reads() const override { return true; }
  // posix_fadvise(WILLNEED) on the file bytes holding the range: exact for
  // contiguous data, predicted for chunks (chunk_prediction.h).
  void WillNeed(std::int64_t begin, std::int64_t count) override;

  // e.g. "uint16", "int32".
  const std::string& dtype() const { return dtype_; }

  struct Part;

 private:
  Hdf5Source() = default;
  // Open's work, with the HDF5 lock held.
  Status OpenParts(const Hdf5Options& o);
  template <typename T>
  Status Copy(std::int64_t begin, std::int64_t count, T* out);

  std::vector<std::unique_ptr<Part>> parts_;
  std::int64_t total_ = 0;
  std::int64_t row_length_ = 0;
  std::int64_t chunk_tokens_ = 0;
  std::string dtype_;
};

// The files `path` names: a glob's matches, a folder's *.h5 and *.hdf5
// files, or the file itself; in name order.
std::vector<std::string> Hdf5FilesOf(const std::string& path);

// Whether this build reads HDF5.
bool HaveHdf5();

}  // namespace dstrain::data
