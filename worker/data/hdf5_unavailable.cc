// A build without the HDF5 C library (an engine-only build on a machine
// without libhdf5-dev): data.type hdf5 says so.
#include "worker/data/dataset_writers.h"
#include "worker/data/hdf5_source.h"

namespace dstrain::data {

namespace {
Status Missing() {
  return Unimplemented(
      "data.type hdf5: this dstrain was built without the HDF5 C library "
      "(install libhdf5-dev and rebuild)");
}
}  // namespace

struct Hdf5Source::Part {};

bool HaveHdf5() { return false; }

std::vector<std::string> Hdf5FilesOf(const std::string&) { return {}; }

StatusOr<std::unique_ptr<Hdf5Source>> Hdf5Source::Open(const Hdf5Options&) {
  return Missing();
}

Hdf5Source::~Hdf5Source() = default;

Status Hdf5Source::Read(std::int64_t, std::int64_t, std::int64_t*) {
  return Missing();
}

Status Hdf5Source::ReadIds(std::int64_t, std::int64_t, std::int32_t*) {
  return Missing();
}

std::string Hdf5Source::Locate(std::int64_t) const { return "HDF5"; }

void Hdf5Source::WillNeed(std::int64_t, std::int64_t) {}

Status WriteHdf5(const std::string&, TokenSource&, const Hdf5WriteOptions&,
                 const WriteProgress&) {
  return Missing();
}

}  // namespace dstrain::data
