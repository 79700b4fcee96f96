#include "worker/data/hdf5_source.h"

#include <fcntl.h>
#include <hdf5.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <sstream>

#include "common/glob_files.h"
#include "worker/data/chunk_prediction.h"
#include "worker/data/hdf5_lock.h"
#include "worker/data/read_at.h"
#include "worker/data/stream_pieces.h"
#include "worker/data/widen_ids.h"

namespace dstrain::data {

namespace fs = std::filesystem;

struct Hdf5Source::Part {
  std::string file;
  std::string name;  // the dataset
  hid_t fid = -1;
  hid_t did = -1;
  std::int64_t first = 0;   // stream position of its first token
  std::int64_t tokens = 0;  // rows * length, or its length
  std::int64_t rows = 0;    // 2-D only
  std::int64_t length = 0;  // 2-D: tokens per row
  int rank = 1;

  // Direct reads (uncompressed little-endian integers, chunks of whole
  // rows or contiguous): the file's own bytes, widened here. A chunk comes
  // whole through H5Dread_chunk (one index lookup and one read, none of
  // H5Dread's selection and conversion machinery); contiguous data with
  // pread, outside HDF5 and its lock. Otherwise H5Dread.
  bool direct = false;
  std::size_t elem = 0;  // bytes per id in the file
  bool is_signed = false;
  std::int64_t chunk = 0;  // tokens per chunk; 0: contiguous at `base`
  int fd = -1;             // a duplicate of HDF5's descriptor, for hints
  std::int64_t base = 0;   // contiguous: the data's file offset
  // Chunked: where a few chunks lie in the file (chunk index, offset),
  // in index order. Asking HDF5 where a chunk is walks its whole index,
  // so WillNeed predicts the others from these (h5py and `dstrain data
  // prepare` write chunks in order, index nodes between them); a wrong
  // prediction costs a read ahead that is not used, never a wrong token.
  std::vector<std::pair<std::int64_t, std::int64_t>> anchors;

  std::string Where() const { return file + ":/" + name; }
};

namespace {

std::vector<std::string> SplitNames(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream in(s);
  for (std::string name; std::getline(in, name, ',');) {
    name.erase(0, name.find_first_not_of(" /"));
    name.erase(name.find_last_not_of(' ') + 1);
    if (!name.empty()) out.push_back(name);
  }
  return out;
}

std::string TypeName(hid_t type) {
  if (H5Tget_class(type) != H5T_INTEGER) {
    return H5Tget_class(type) == H5T_FLOAT
               ? "float" + std::to_string(8 * H5Tget_size(type))
               : "a non-numeric type";
  }
  return std::string(H5Tget_sign(type) == H5T_SGN_NONE ? "uint" : "int") +
         std::to_string(8 * H5Tget_size(type));
}

herr_t ListOne(hid_t, const char* name, const H5L_info_t*, void* data) {
  auto* names = static_cast<std::string*>(data);
  if (names->size() < 200)
    *names += (names->empty() ? "" : ", ") + std::string(name);
  return 0;
}

// The file's top-level names, for "no dataset `x`; it has: a, b".
std::string ListNames(hid_t fid) {
  std::string names;
  H5Literate(fid, H5_INDEX_NAME, H5_ITER_INC, nullptr, ListOne, &names);
  return names.empty() ? "nothing" : names;
}

// Part::anchors: 17 chunks evenly over `p` (each lookup walks the index).
void FindAnchors(Hdf5Source::Part& p) {
  const std::int64_t chunks = (p.tokens + p.chunk - 1) / p.chunk;
  for (int i = 0; i <= 16 && chunks > 0; ++i) {
    const std::int64_t k = (chunks - 1) * i / 16;
    if (!p.anchors.empty() && p.anchors.back().first == k) continue;
    hsize_t coord[2] = {static_cast<hsize_t>(k * p.chunk), 0};
    if (p.rank == 2) coord[0] = static_cast<hsize_t>(k * (p.chunk / p.length));
    unsigned mask = 0;
    haddr_t addr = HADDR_UNDEF;
    hsize_t size = 0;
    if (H5Dget_chunk_info_by_coord(p.did, coord, &mask, &addr, &size) >= 0 &&
        addr != HADDR_UNDEF) {
      p.anchors.emplace_back(k, static_cast<std::int64_t>(addr));
    }
    hdf5::LastError();
  }
}

// Decides whether `p` can be read directly (Part::direct) and prepares it.
// Called with the HDF5 lock held; `dcpl` is the dataset's creation list.
void SetUpDirectReads(Hdf5Source::Part& p, hid_t dcpl) {
  const H5D_layout_t layout = H5Pget_layout(dcpl);
  if (layout != H5D_CHUNKED && layout != H5D_CONTIGUOUS) return;
  if (H5Pget_nfilters(dcpl) != 0 || H5Pget_external_count(dcpl) != 0) return;
  const hid_t type = H5Dget_type(p.did);
  const bool little = H5Tget_order(type) == H5T_ORDER_LE;
  p.elem = H5Tget_size(type);
  p.is_signed = H5Tget_sign(type) == H5T_SGN_2;
  H5Tclose(type);
  if (!little || (p.elem != 1 && p.elem != 2 && p.elem != 4 && p.elem != 8)) {
    return;
  }
  if (layout == H5D_CHUNKED) {
    hsize_t chunk[2] = {0, 0};
    H5Pget_chunk(dcpl, 2, chunk);
    // A chunk narrower than a row splits rows: not one run of the stream.
    if (p.rank == 2 && chunk[1] != static_cast<hsize_t>(p.length)) return;
    p.chunk = static_cast<std::int64_t>(
        p.rank == 2 ? chunk[0] * static_cast<hsize_t>(p.length) : chunk[0]);
    p.direct = p.chunk > 0;
    if (p.direct) FindAnchors(p);
  } else {
    const haddr_t at = H5Dget_offset(p.did);
    hdf5::LastError();  // not allocated (HADDR_UNDEF) leaves an error
    if (at == HADDR_UNDEF) return;  // nothing written yet: fill values
    p.base = static_cast<std::int64_t>(at);
  }
  void* handle = nullptr;
  if (H5Fget_vfd_handle(p.fid, H5P_DEFAULT, &handle) < 0 || handle == nullptr) {
    hdf5::LastError();
    // Not the POSIX driver: chunks are still read through HDF5.
    if (p.chunk == 0) p.direct = false;
    return;
  }
  p.fd = dup(*static_cast<int*>(handle));
  if (p.chunk == 0) p.direct = p.fd >= 0;
}

}  // namespace

bool HaveHdf5() { return true; }

std::vector<std::string> Hdf5FilesOf(const std::string& path) {
  std::error_code ec;
  if (!IsGlobPattern(path) && fs::is_directory(path, ec)) {
    std::vector<std::string> files =
        GlobFiles((fs::path(path) / "*.h5").string());
    for (std::string& f : GlobFiles((fs::path(path) / "*.hdf5").string())) {
      files.push_back(std::move(f));
    }
    std::sort(files.begin(), files.end());
    return files;
  }
  return GlobFiles(path);
}

StatusOr<std::unique_ptr<Hdf5Source>> Hdf5Source::Open(const Hdf5Options& o) {
  std::unique_ptr<Hdf5Source> src(new Hdf5Source());
  Status s;
  {
    std::lock_guard<std::mutex> lock(hdf5::Lock());
    hdf5::Quiet();
    s = src->OpenParts(o);
  }
  // A failed source closes what it opened, taking the lock itself.
  if (!s.ok()) return s;
  return src;
}

Status Hdf5Source::OpenParts(const Hdf5Options& o) {
  Hdf5Source* src = this;
  const std::vector<std::string> files = Hdf5FilesOf(o.path);
  if (files.empty()) {
    return InvalidArgument("data.path " + o.path +
                           ": no HDF5 file (a .h5 file, a glob of them or a "
                           "folder holding them)");
  }
  const std::vector<std::string> names = SplitNames(o.datasets);
  if (names.empty()) return InvalidArgument("data.dataset names no dataset");
  for (const std::string& file : files) {
    const hid_t fid = H5Fopen(file.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
    if (fid < 0) {
      const std::string why = hdf5::LastError();
      return InvalidArgument(file + ": not a readable HDF5 file (" +
                             (why.empty() ? "unknown reason" : why) +
                             "); is it truncated or still being written?");
    }
    for (const std::string& name : names) {
      // Kept at once, so the destructor closes what is open whatever check
      // fails below.
      src->parts_.push_back(std::make_unique<Part>());
      Part& p = *src->parts_.back();
      p.file = file;
      p.name = name;
      p.fid = fid;
      if (H5Lexists(fid, name.c_str(), H5P_DEFAULT) <= 0) {
        return InvalidArgument(p.Where() + ": no such dataset; the file has: " +
                               ListNames(fid) + " (set data.dataset)");
      }
      const hid_t dapl = H5Pcreate(H5P_DATASET_ACCESS);
      // The block cache reads whole chunks: without HDF5's own chunk cache
      // they go straight from the file into its buffer, one copy fewer.
      H5Pset_chunk_cache(dapl, 0, 0, 1.0);
      p.did = H5Dopen2(fid, name.c_str(), dapl);
      H5Pclose(dapl);
      if (p.did < 0) {
        return InvalidArgument(p.Where() + ": cannot open the dataset (" +
                               hdf5::LastError() + ")");
      }
      const hid_t type = H5Dget_type(p.did);
      const std::string tname = TypeName(type);
      const bool integer = H5Tget_class(type) == H5T_INTEGER;
      H5Tclose(type);
      const hid_t space = H5Dget_space(p.did);
      p.rank = H5Sget_simple_extent_ndims(space);
      hsize_t dims[2] = {0, 0};
      if (p.rank == 1 || p.rank == 2) {
        H5Sget_simple_extent_dims(space, dims, nullptr);
      }
      H5Sclose(space);
      if (!integer) {
        return InvalidArgument(p.Where() + ": dtype " + tname +
                               ", but token ids are integers (uint16, "
                               "uint32, int32, int64)");
      }
      if (p.rank != 1 && p.rank != 2) {
        return InvalidArgument(p.Where() + ": " + std::to_string(p.rank) +
                               "-D; expected 1-D (a token stream) or 2-D "
                               "[samples, length]");
      }
      if (src->dtype_.empty()) src->dtype_ = tname;
      if (p.rank != src->parts_.front()->rank) {
        return InvalidArgument(p.Where() + " is " + std::to_string(p.rank) +
                               "-D but " + src->parts_.front()->Where() +
                               " is " +
                               std::to_string(src->parts_.front()->rank) +
                               "-D; all must be streams or all samples");
      }
      if (p.rank == 2) {
        p.rows = static_cast<std::int64_t>(dims[0]);
        p.length = static_cast<std::int64_t>(dims[1]);
        p.tokens = p.rows * p.length;
        if (src->row_length_ == 0) src->row_length_ = p.length;
        if (p.length != src->row_length_ || p.length == 0) {
          return InvalidArgument(
              p.Where() + ": samples of " + std::to_string(p.length) +
              " tokens, but " + src->parts_.front()->Where() + " has " +
              std::to_string(src->row_length_) + "; all must be one length");
        }
      } else {
        p.tokens = static_cast<std::int64_t>(dims[0]);
      }
      const hid_t dcpl = H5Dget_create_plist(p.did);
      if (H5Pget_layout(dcpl) == H5D_CHUNKED && src->chunk_tokens_ == 0) {
        hsize_t chunk[2] = {0, 0};
        H5Pget_chunk(dcpl, 2, chunk);
        src->chunk_tokens_ = static_cast<std::int64_t>(
            p.rank == 2 ? chunk[0] * static_cast<hsize_t>(p.length) : chunk[0]);
      }
      SetUpDirectReads(p, dcpl);
      H5Pclose(dcpl);
      p.first = src->total_;
      src->total_ += p.tokens;
    }
  }
  return Status::Ok();
}

Hdf5Source::~Hdf5Source() {
  std::lock_guard<std::mutex> lock(hdf5::Lock());
  hid_t last_file = -1;
  for (const auto& p : parts_) {
    if (p->did >= 0) H5Dclose(p->did);
    if (p->fd >= 0) close(p->fd);
    if (p->fid >= 0 && p->fid != last_file) {
      H5Fclose(p->fid);
      last_file = p->fid;
    }
  }
}

namespace {

// H5Dread of tokens [local, local + n) of `p`, widened into `out`.
template <typename T>
Status ReadThroughLibrary(const Hdf5Source::Part& p, std::int64_t local,
                          std::int64_t n, T* out) {
  thread_local std::vector<unsigned char> scratch;
  std::lock_guard<std::mutex> lock(hdf5::Lock());
  // Read in the dataset's own type (HDF5 converts nothing, which is where
  // its time would go) and widen here: whole rows for samples.
  const hid_t ftype = H5Dget_type(p.did);
  const hid_t mtype = H5Tget_native_type(ftype, H5T_DIR_ASCEND);
  const std::size_t elem = H5Tget_size(mtype);
  const bool is_signed = H5Tget_sign(mtype) == H5T_SGN_2;
  H5Tclose(ftype);
  const hid_t fspace = H5Dget_space(p.did);
  std::int64_t skip = 0, rows_n = n;
  hsize_t start[2] = {static_cast<hsize_t>(local), 0};
  hsize_t cnt[2] = {static_cast<hsize_t>(n), 0};
  if (p.rank == 2) {
    const std::int64_t r0 = local / p.length;
    const std::int64_t r1 = (local + n - 1) / p.length + 1;
    start[0] = static_cast<hsize_t>(r0);
    cnt[0] = static_cast<hsize_t>(r1 - r0);
    cnt[1] = static_cast<hsize_t>(p.length);
    skip = local - r0 * p.length;
    rows_n = (r1 - r0) * p.length;
  }
  H5Sselect_hyperslab(fspace, H5S_SELECT_SET, start, nullptr, cnt, nullptr);
  const hid_t mspace = H5Screate_simple(p.rank, cnt, nullptr);
  scratch.resize(static_cast<std::size_t>(rows_n) * elem);
  const herr_t rc =
      H5Dread(p.did, mtype, mspace, fspace, H5P_DEFAULT, scratch.data());
  H5Sclose(mspace);
  H5Sclose(fspace);
  H5Tclose(mtype);
  if (rc < 0) {
    return InvalidArgument(
        p.Where() + ": cannot read tokens " + std::to_string(local) + " to " +
        std::to_string(local + n) + " (" + hdf5::LastError() + ")");
  }
  WidenIds(scratch.data() + static_cast<std::size_t>(skip) * elem, n, elem,
           is_signed, out);
  return Status::Ok();
}

// Tokens [local, local + n) of a direct part, widened into `out`.
template <typename T>
Status ReadDirect(const Hdf5Source::Part& p, std::int64_t local, std::int64_t n,
                  T* out) {
  thread_local std::vector<unsigned char> raw;
  const auto elem = static_cast<std::int64_t>(p.elem);
  if (p.chunk == 0) {
    raw.resize(static_cast<std::size_t>(n * elem));
    DSTRAIN_RETURN_IF_ERROR(
        ReadAt(p.fd, p.base + local * elem, raw.size(), raw.data(), p.file));
    WidenIds(raw.data(), n, p.elem, p.is_signed, out);
    return Status::Ok();
  }
  raw.resize(static_cast<std::size_t>(p.chunk * elem));
  for (std::int64_t pos = local; pos < local + n;) {
    const std::int64_t k = pos / p.chunk;
    const std::int64_t m = std::min(local + n, (k + 1) * p.chunk) - pos;
    hsize_t coord[2] = {static_cast<hsize_t>(k * p.chunk), 0};
    if (p.rank == 2) coord[0] = static_cast<hsize_t>(k * (p.chunk / p.length));
    herr_t rc = -1;
    {
      std::lock_guard<std::mutex> lock(hdf5::Lock());
      // A chunk never written has no storage (its tokens are the fill
      // value) and fails here: H5Dread supplies it below.
      std::uint32_t filters = 0;
      rc = H5Dread_chunk(p.did, H5P_DEFAULT, coord, &filters, raw.data());
      if (rc < 0) hdf5::LastError();  // cleared: H5Dread says what it finds
    }
    if (rc >= 0) {
      WidenIds(raw.data() + (pos - k * p.chunk) * elem, m, p.elem, p.is_signed,
               out);
    } else {
      DSTRAIN_RETURN_IF_ERROR(ReadThroughLibrary(p, pos, m, out));
    }
    out += m;
    pos += m;
  }
  return Status::Ok();
}

}  // namespace

template <typename T>
Status Hdf5Source::Copy(std::int64_t begin, std::int64_t count, T* out) {
  return ForEachPiece(
      parts_, total_, "the HDF5 data", begin, count,
      [&](std::size_t i, std::int64_t local, std::int64_t n) -> Status {
        const Part& p = *parts_[i];
        DSTRAIN_RETURN_IF_ERROR(p.direct
                                    ? ReadDirect(p, local, n, out)
                                    : ReadThroughLibrary(p, local, n, out));
        out += n;
        return Status::Ok();
      });
}

Status Hdf5Source::Read(std::int64_t begin, std::int64_t count,
                        std::int64_t* out) {
  return Copy(begin, count, out);
}

Status Hdf5Source::ReadIds(std::int64_t begin, std::int64_t count,
                           std::int32_t* out) {
  return Copy(begin, count, out);
}

void Hdf5Source::WillNeed(std::int64_t begin, std::int64_t count) {
  begin = std::max<std::int64_t>(0, begin);
  count = std::min(count, total_ - begin);
  if (count <= 0) return;
  (void)ForEachPiece(
      parts_, total_, "the HDF5 data", begin, count,
      [&](std::size_t i, std::int64_t local, std::int64_t n) {
        const Part& p = *parts_[i];
        if (!p.direct || p.fd < 0) return Status::Ok();
        const auto elem = static_cast<std::int64_t>(p.elem);
        std::int64_t lo = p.base + local * elem;
        std::int64_t hi = p.base + (local + n) * elem;
        if (p.chunk > 0) {
          if (p.anchors.empty()) return Status::Ok();
          const std::int64_t bytes = p.chunk * elem;
          lo = PredictChunkOffset(p.anchors, local / p.chunk, bytes);
          hi = PredictChunkOffset(p.anchors, (local + n - 1) / p.chunk, bytes) +
               bytes;
          // Index nodes between the anchors move chunks a little from the
          // line: a margin of a quarter chunk each side.
          lo = std::max<std::int64_t>(0, lo - bytes / 4);
          hi += bytes / 4;
        }
        posix_fadvise(p.fd, lo, hi - lo, POSIX_FADV_WILLNEED);
        return Status::Ok();
      });
}

std::string Hdf5Source::Locate(std::int64_t position) const {
  if (parts_.empty()) return "the HDF5 data";
  const Part& p = *parts_[PieceAt(parts_, position)];
  const std::int64_t local = position - p.first;
  if (p.rank == 2) {
    return p.Where() + " at sample " + std::to_string(local / p.length) +
           ", token " + std::to_string(local % p.length);
  }
  return p.Where() + " at token " + std::to_string(local);
}

}  // namespace dstrain::data
