// WriteHdf5 (dataset_writers.h), through the HDF5 C library.
#include <hdf5.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <vector>

#include "worker/data/dataset_writers.h"
#include "worker/data/hdf5_lock.h"

namespace dstrain::data {

Status WriteHdf5(const std::string& path, TokenSource& source,
                 const Hdf5WriteOptions& o, const WriteProgress& progress) {
  if (o.dtype != "uint16" && o.dtype != "uint32") {
    return InvalidArgument("--dtype " + o.dtype + ": uint16 or uint32");
  }
  const std::int64_t limit =
      o.dtype == "uint16" ? 65536 : (std::int64_t{1} << 32);
  const std::int64_t L = o.row_length;
  const std::int64_t total = L > 0 ? source.size() / L * L : source.size();
  if (total == 0) return InvalidArgument("nothing to write: no whole sample");
  const std::string tmp = path + ".tmp." + std::to_string(getpid());
  std::lock_guard<std::mutex> lock(hdf5::Lock());
  hdf5::Quiet();
  const hid_t fid =
      H5Fcreate(tmp.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  if (fid < 0) {
    return InvalidArgument("cannot create " + tmp + " (" + hdf5::LastError() +
                           ")");
  }
  const int rank = L > 0 ? 2 : 1;
  const hsize_t dims[2] = {static_cast<hsize_t>(L > 0 ? total / L : total),
                           static_cast<hsize_t>(L)};
  hsize_t chunk[2] = {0, static_cast<hsize_t>(L)};
  chunk[0] = static_cast<hsize_t>(
      std::max<std::int64_t>(1, L > 0 ? o.chunk_tokens / L : o.chunk_tokens));
  if (chunk[0] > dims[0]) chunk[0] = dims[0];
  const hid_t space = H5Screate_simple(rank, dims, nullptr);
  const hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
  H5Pset_chunk(dcpl, rank, chunk);
  const hid_t type = o.dtype == "uint16" ? H5T_STD_U16LE : H5T_STD_U32LE;
  const hid_t did = H5Dcreate2(fid, o.dataset.c_str(), type, space, H5P_DEFAULT,
                               dcpl, H5P_DEFAULT);
  H5Pclose(dcpl);
  auto fail = [&](const std::string& why) {
    if (did >= 0) H5Dclose(did);
    H5Sclose(space);
    H5Fclose(fid);
    std::remove(tmp.c_str());
    return InvalidArgument(why);
  };
  if (did < 0) {
    return fail("cannot create dataset " + o.dataset + " in " + tmp + " (" +
                hdf5::LastError() + ")");
  }
  // Whole chunks per write.
  const std::int64_t chunk_len =
      static_cast<std::int64_t>(chunk[0]) * (L > 0 ? L : 1);
  const std::int64_t step =
      std::max<std::int64_t>(1, (std::int64_t{1} << 22) / chunk_len) *
      chunk_len;
  std::vector<std::int64_t> buf;
  for (std::int64_t b = 0; b < total; b += step) {
    const std::int64_t n = std::min(step, total - b);
    buf.resize(static_cast<std::size_t>(n));
    Status s = source.Read(b, n, buf.data());
    if (!s.ok()) return fail(s.message());
    for (std::int64_t k = 0; k < n; ++k) {
      const std::int64_t id = buf[static_cast<std::size_t>(k)];
      if (id < 0 || id >= limit) {
        return fail("token id " + std::to_string(id) + " at " +
                    source.Locate(b + k) + " does not fit " + o.dtype);
      }
    }
    const hsize_t start[2] = {static_cast<hsize_t>(L > 0 ? b / L : b), 0};
    const hsize_t cnt[2] = {static_cast<hsize_t>(L > 0 ? n / L : n),
                            static_cast<hsize_t>(L)};
    const hid_t fspace = H5Dget_space(did);
    H5Sselect_hyperslab(fspace, H5S_SELECT_SET, start, nullptr, cnt, nullptr);
    const hid_t mspace = H5Screate_simple(rank, cnt, nullptr);
    const herr_t rc = H5Dwrite(did, H5T_NATIVE_INT64, mspace, fspace,
                               H5P_DEFAULT, buf.data());
    H5Sclose(mspace);
    H5Sclose(fspace);
    if (rc < 0)
      return fail("cannot write " + tmp + " (" + hdf5::LastError() + ")");
    if (progress) progress(b + n, total);
  }
  H5Dclose(did);
  H5Sclose(space);
  if (H5Fclose(fid) < 0) {
    std::remove(tmp.c_str());
    return InvalidArgument("cannot close " + tmp + " (" + hdf5::LastError() +
                           ")");
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    return InvalidArgument("cannot rename " + tmp + " onto " + path);
  }
  return Status::Ok();
}

}  // namespace dstrain::data
