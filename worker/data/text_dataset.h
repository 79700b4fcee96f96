#pragma once
// A character-level corpus: the bytes of one file, or of every regular file
// of a folder (not `.dat` index files, not symlinks, not subfolders)
// concatenated in sorted name order. Each byte is one token (vocab 256).
//
// A single file is memory-mapped read-only; a folder is read once into
// memory. The object owns that memory; bytes() stays valid for its lifetime.
// Read-only after Open: any thread may read bytes() concurrently.

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "common/status.h"

namespace dstrain::data {

class TextDataset {
 public:
  // Errors name `path`: missing, unreadable, empty, or a folder without
  // data files.
  static StatusOr<std::unique_ptr<TextDataset>> Open(const std::string& path);

  ~TextDataset();
  TextDataset(const TextDataset&) = delete;
  TextDataset& operator=(const TextDataset&) = delete;

  std::span<const std::uint8_t> bytes() const { return {data_, size_}; }
  // The files read, in order (one entry for a single file).
  const std::vector<std::string>& files() const { return files_; }

 private:
  TextDataset() = default;

  const std::uint8_t* data_ = nullptr;
  std::size_t size_ = 0;
  void* mapping_ = nullptr;           // set when data_ is an mmap of one file
  std::vector<std::uint8_t> buffer_;  // set when a folder was read
  std::vector<std::string> files_;
};

}  // namespace dstrain::data
