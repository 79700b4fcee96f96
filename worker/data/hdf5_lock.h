#pragma once
// The process-wide lock every call into the HDF5 C library holds (the
// library as Debian builds it is not thread-safe), and HDF5's own reason
// for the last failure. Internal to worker/data.

#include <mutex>
#include <string>

namespace dstrain::data::hdf5 {

std::mutex& Lock();

// HDF5's innermost message of the current error stack ("truncated file:
// eof = 1000, ..."); "" when there is none. Call with Lock() held. The
// first call also stops HDF5 from printing its stacks to stderr.
std::string LastError();
void Quiet();

}  // namespace dstrain::data::hdf5
