#pragma once
// Where an HDF5 chunk probably lies in its file, for read-ahead hints.
// Asking HDF5 (H5Dget_chunk_info_by_coord) walks the dataset's whole chunk
// index, too slow per read; writers that add chunks in order (h5py,
// `dstrain data prepare`) leave them nearly evenly spaced, index nodes
// between them, so a line through a few known chunks predicts the rest
// within a fraction of a chunk. Pure.

#include <algorithm>
#include <cstdint>
#include <iterator>
#include <utility>
#include <vector>

namespace dstrain::data {

// `anchors`: (chunk index, file offset) known exactly, sorted, not empty.
// Chunk k's offset on the line between the anchors around it, or
// `chunk_bytes` apart beyond them.
inline std::int64_t PredictChunkOffset(
    const std::vector<std::pair<std::int64_t, std::int64_t>>& anchors,
    std::int64_t k, std::int64_t chunk_bytes) {
  auto hi = std::lower_bound(
      anchors.begin(), anchors.end(), k,
      [](const auto& a, std::int64_t key) { return a.first < key; });
  if (hi == anchors.end()) {
    const auto& last = anchors.back();
    return last.second + (k - last.first) * chunk_bytes;
  }
  if (hi->first == k || hi == anchors.begin()) {
    return hi->second - (hi->first - k) * chunk_bytes;
  }
  const auto lo = std::prev(hi);
  const double t = static_cast<double>(k - lo->first) /
                   static_cast<double>(hi->first - lo->first);
  return lo->second + static_cast<std::int64_t>(
                          t * static_cast<double>(hi->second - lo->second));
}

}  // namespace dstrain::data
