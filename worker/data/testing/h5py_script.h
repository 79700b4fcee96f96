#pragma once
// For tests that write HDF5 files the way users do, with h5py: why such a
// test must skip on this machine ("" when it can run), and running a
// script there. DSTRAIN_PYTHON is the bootstrap's interpreter (the test's
// compile definition).

#include <cstdlib>
#include <string>

#include "worker/data/hdf5_source.h"

namespace dstrain::data::testing {

inline std::string WhyNoH5py(const std::string& python) {
  if (!HaveHdf5()) return "built without the HDF5 C library";
  if (std::system((python + " -c 'import h5py' 2>/dev/null").c_str()) != 0) {
    return "no h5py in " + python + " (deploy/bootstrap.sh installs it)";
  }
  return "";
}

// `python script args`; its exit status.
inline int RunPython(const std::string& python, const std::string& script,
                     const std::string& args) {
  return std::system((python + " " + script + " " + args).c_str());
}

}  // namespace dstrain::data::testing
