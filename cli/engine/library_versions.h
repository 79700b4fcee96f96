#pragma once
// Versions of the libraries dstrain was built with, each from a tiny TU of
// its own so the headers involved (libtorch's version macros, nccl.h) stay
// out of every other CLI file.

#include <string>

namespace dstrain::cli {

std::string TorchVersion();  // "2.11.0"
// "2.28.9" from ncclGetVersion; "not built in" without DSTRAIN_HAVE_NCCL.
std::string NcclVersion();

}  // namespace dstrain::cli
