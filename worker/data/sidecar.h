#pragma once
// The JSON sidecar of a token file (`train.bin.json` beside `train.bin`),
// as `dstrain data prepare` writes it:
//   {"dtype": "uint16", "vocab": 50257, "tokens": 1000000}
// A flat object of string and integer values; unknown keys are kept out of
// the way. The reader is strict and bounded (64 KiB, no nesting), so a
// hostile file gives one line of error. Pure functions; thread-safe.

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace dstrain::data {

struct Sidecar {
  std::string dtype;         // "uint16" or "uint32"
  std::int64_t vocab = 0;    // 0: not said
  std::int64_t tokens = -1;  // -1: not said
};

// `where` names the file in errors.
StatusOr<Sidecar> ParseSidecar(std::string_view text, const std::string& where);
std::string SidecarJson(const Sidecar& s);

// Bytes per token of "uint16" / "uint32"; 0 for anything else.
int DtypeBytes(std::string_view dtype);

}  // namespace dstrain::data
