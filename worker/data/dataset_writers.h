#pragma once
// Writing a token stream as the files `data.type: tokens` and `hdf5` read,
// for `dstrain data prepare`. Each writes to a temporary file beside the
// target and renames it at the end (a sidecar too, for token files), so a
// reader never sees half a file and a failed write leaves nothing behind.
// `progress` gets (tokens written, total). Thread-compatible.

#include <cstdint>
#include <functional>
#include <string>

#include "common/status.h"
#include "worker/data/token_source.h"

namespace dstrain::data {

using WriteProgress = std::function<void(std::int64_t, std::int64_t)>;

// `dtype` "uint16" or "uint32"; every id must fit it (and be below `vocab`
// when vocab > 0). Writes `path` and `path`.json.
Status WriteTokenFile(const std::string& path, TokenSource& source,
                      const std::string& dtype, std::int64_t vocab,
                      const WriteProgress& progress = {});

struct Hdf5WriteOptions {
  std::string dataset = "tokens";
  std::string dtype = "uint16";  // "uint16" | "uint32"
  // Chunk length in tokens (1-D) or the rows of a chunk times row_length
  // (2-D), as h5py's create_dataset(chunks=...).
  std::int64_t chunk_tokens = std::int64_t{1} << 18;
  // > 0: write [size / row_length, row_length] samples (the tail that does
  // not fill a row is left out); 0: a 1-D stream.
  std::int64_t row_length = 0;
};

Status WriteHdf5(const std::string& path, TokenSource& source,
                 const Hdf5WriteOptions& options,
                 const WriteProgress& progress = {});

}  // namespace dstrain::data
