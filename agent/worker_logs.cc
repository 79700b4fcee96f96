#include "agent/worker_logs.h"

#include <fcntl.h>
#include <ftw.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <set>

namespace dstrain::agent {
namespace {

// POSIX calls throughout, not std::filesystem: the libtorch linked into
// the dstrain executable interposes a broken copy of parts of it.

// mkdir -p; 0 or an errno.
int MakeDirs(const std::string& path) {
  std::string prefix;
  std::size_t pos = 0;
  while (pos != std::string::npos) {
    pos = path.find('/', pos + 1);
    prefix = path.substr(0, pos);
    if (prefix.empty()) continue;
    if (::mkdir(prefix.c_str(), 0750) != 0 && errno != EEXIST) return errno;
  }
  return 0;
}

int RemoveEntry(const char* path, const struct stat*, int, struct FTW*) {
  ::remove(path);
  return 0;
}

// rm -rf `path`.
void RemoveTree(const std::string& path) {
  ::nftw(path.c_str(), RemoveEntry, 16, FTW_DEPTH | FTW_PHYS);
}

std::string SafeName(const std::string& s) {
  std::string out = s.empty() ? "_" : s;
  for (char& c : out) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                    (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
    if (!ok) c = '_';
  }
  if (out == "." || out == "..") out = "_";
  return out;
}

// Parses "<time µs> <o|e> <text>" into `line`; false for a damaged line.
bool ParseStored(const std::string& stored, proto::LogLine* line) {
  const std::size_t sp1 = stored.find(' ');
  if (sp1 == std::string::npos || stored.size() < sp1 + 3) return false;
  char* end = nullptr;
  const long long t = std::strtoll(stored.c_str(), &end, 10);
  if (end != stored.c_str() + sp1) return false;
  line->set_time_unix_us(t);
  line->set_from_stderr(stored[sp1 + 1] == 'e');
  line->set_text(stored.substr(sp1 + 3));
  return true;
}

// Appends the lines of `path` numbered [from, to) — the file's first line
// being `first` — to `out`, at most `budget` of them.
void ReadRange(const std::string& path, std::int64_t first, std::int64_t from,
               std::int64_t to, int rank, int* budget,
               proto::ReadLogsResponse* out, std::int64_t* next) {
  if (from >= to || *budget <= 0) return;
  std::ifstream in(path);
  std::string stored;
  std::int64_t n = first;
  while (n<to&& * budget> 0 && std::getline(in, stored)) {
    if (n >= from) {
      proto::LogLine* line = out->add_lines();
      line->set_rank(rank);
      line->set_line_no(n);
      if (!ParseStored(stored, line)) line->set_text(stored);
      --*budget;
      *next = n + 1;
    }
    ++n;
  }
}

}  // namespace

WorkerLogs::WorkerLogs(WorkerLogsOptions options)
    : options_(std::move(options)) {}

WorkerLogs::~WorkerLogs() {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& [id, job] : jobs_) CloseAll(job);
  if (options_.remove_at_close) RemoveTree(options_.dir);
}

StatusOr<std::unique_ptr<WorkerLogs>> WorkerLogs::Open(
    WorkerLogsOptions options) {
  if (options.dir.empty()) {
    return InvalidArgument("worker logs: no folder given (--log-dir)");
  }
  if (options.max_file_bytes < 1024) {
    return InvalidArgument("worker logs: a file cap under 1 KiB keeps nothing");
  }
  if (const int err = MakeDirs(options.dir)) {
    return FailedPrecondition("--log-dir " + options.dir +
                              ": cannot create it: " + std::strerror(err));
  }
  // What an earlier agent process left: its workers died with it.
  RemoveTree(options.dir);
  if (const int err = MakeDirs(options.dir)) {
    return FailedPrecondition("--log-dir " + options.dir +
                              ": cannot create it: " + std::strerror(err));
  }
  if (::access(options.dir.c_str(), W_OK) != 0) {
    return FailedPrecondition("--log-dir " + options.dir +
                              ": not writable: " + std::strerror(errno));
  }
  return std::unique_ptr<WorkerLogs>(new WorkerLogs(std::move(options)));
}

void WorkerLogs::CloseAll(JobLogs& job) {
  for (auto& [key, log] : job.ranks) {
    if (log.fd >= 0) ::close(log.fd);
    log.fd = -1;
  }
}

void WorkerLogs::Append(const std::string& job_id, int attempt, int rank,
                        bool from_stderr, const std::string& text,
                        std::int64_t time_unix_us) {
  std::lock_guard<std::mutex> lock(mu_);
  auto [it, added] = jobs_.try_emplace(job_id);
  JobLogs& job = it->second;
  if (added) {
    job.order = next_order_++;
    job.folder = options_.dir + "/" + SafeName(job_id);
  }
  RankLog& log = job.ranks[{attempt, rank}];
  if (log.path.empty()) {
    const std::string folder = job.folder + "/a" + std::to_string(attempt);
    MakeDirs(folder);
    log.path = folder + "/rank-" + std::to_string(rank) + ".log";
  }
  if (log.fd < 0) {
    log.fd = ::open(log.path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
                    0640);
    if (log.fd < 0) return;  // a full or broken disk loses the line
  }
  const std::string stored = std::to_string(time_unix_us) +
                             (from_stderr ? " e " : " o ") + text + "\n";
  const ssize_t wrote = ::write(log.fd, stored.data(), stored.size());
  if (wrote != static_cast<ssize_t>(stored.size())) return;
  log.bytes += wrote;
  job.bytes += wrote;
  total_ += wrote;
  ++log.next_line;
  if (log.bytes >= options_.max_file_bytes) Rotate(job, log);
  if (total_ > options_.max_total_bytes) EnforceTotal(job_id);
}

void WorkerLogs::Rotate(JobLogs& job, RankLog& log) {
  ::close(log.fd);
  log.fd = -1;
  const std::string old = log.path + ".1";
  // Replaces the one before.
  if (::rename(log.path.c_str(), old.c_str()) != 0) return;
  job.bytes -= log.rotated_bytes;
  total_ -= log.rotated_bytes;
  log.rotated_bytes = log.bytes;
  log.bytes = 0;
  log.first_line = log.current_first;
  log.current_first = log.next_line;
}

void WorkerLogs::EnforceTotal(const std::string& keep) {
  while (total_ > options_.max_total_bytes) {
    auto oldest = jobs_.end();
    for (auto it = jobs_.begin(); it != jobs_.end(); ++it) {
      if (it->first == keep) continue;
      if (oldest == jobs_.end() || it->second.order < oldest->second.order) {
        oldest = it;
      }
    }
    if (oldest == jobs_.end()) return;  // only the writing job is left
    CloseAll(oldest->second);
    RemoveTree(oldest->second.folder);
    total_ -= oldest->second.bytes;
    jobs_.erase(oldest);
  }
}

StatusOr<proto::ReadLogsResponse> WorkerLogs::Read(
    const proto::ReadLogsRequest& request) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto job = jobs_.find(request.job_id());
  proto::ReadLogsResponse out;
  if (job == jobs_.end()) {
    return NotFound("no output of job " + request.job_id() +
                    " on this node (it ran no rank here, or its logs were "
                    "dropped to stay under the cap)");
  }
  std::set<int> wanted(request.ranks().begin(), request.ranks().end());
  std::map<int, std::int64_t> after;
  for (const proto::LogCursor& c : request.after()) {
    after[c.rank()] = c.next_line();
  }
  int budget = request.max_lines() > 0
                   ? std::min(request.max_lines(), options_.max_lines_per_read)
                   : options_.max_lines_per_read;
  for (const auto& [key, log] : job->second.ranks) {
    const auto [attempt, rank] = key;
    if (attempt != request.attempt()) continue;
    if (!wanted.empty() && wanted.count(rank) == 0) continue;
    std::int64_t from = log.first_line;
    auto cursor = after.find(rank);
    if (cursor != after.end()) {
      from = cursor->second;
    } else if (request.tail() > 0) {
      from = std::max(log.first_line, log.next_line - request.tail());
    }
    if (from < log.first_line) {
      out.set_dropped(out.dropped() + (log.first_line - from));
      from = log.first_line;
    }
    from = std::min(from, log.next_line);
    std::int64_t next = from;
    if (from < log.current_first) {
      ReadRange(log.path + ".1", log.first_line, from, log.current_first, rank,
                &budget, &out, &next);
    }
    if (next >= log.current_first) {
      ReadRange(log.path, log.current_first, std::max(next, log.current_first),
                log.next_line, rank, &budget, &out, &next);
    }
    proto::LogCursor* c = out.add_next();
    c->set_rank(rank);
    c->set_next_line(next);
  }
  return out;
}

std::int64_t WorkerLogs::total_bytes() const {
  std::lock_guard<std::mutex> lock(mu_);
  return total_;
}

}  // namespace dstrain::agent
