#include "agent/progress_watch.h"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include "common/log.h"

namespace dstrain::agent {
namespace {

// Removes `dir` and what it holds, `depth` levels of folders at most (the
// watch's own tree: attempt folders of record files).
void RemoveTree(const std::string& dir, int depth) {
  if (DIR* d = ::opendir(dir.c_str())) {
    while (dirent* e = ::readdir(d)) {
      const std::string name = e->d_name;
      if (name == "." || name == "..") continue;
      const std::string path = dir + "/" + name;
      struct stat st {};
      if (::lstat(path.c_str(), &st) != 0) continue;
      if (S_ISDIR(st.st_mode)) {
        if (depth > 0) RemoveTree(path, depth - 1);
      } else {
        ::unlink(path.c_str());
      }
    }
    ::closedir(d);
  }
  ::rmdir(dir.c_str());
}

// A job id as a file name: anything but [A-Za-z0-9._-] becomes '_'.
std::string FileSafe(const std::string& s) {
  std::string out = s;
  for (char& c : out) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                    (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
    if (!ok) c = '_';
  }
  return out.empty() ? "_" : out;
}

}  // namespace

std::string ProgressFileOf(const std::string& dir, int rank) {
  return dir + "/rank-" + std::to_string(rank) + ".progress";
}

std::string ProcessStateName(char state) {
  switch (state) {
    case 'R':
      return "running";
    case 'S':
    case 'I':
      return "sleeping";
    case 'D':
      return "disk";
    case 'T':
    case 't':
      return "stopped";
    case 'Z':
    case 'X':
      return "zombie";
    default:
      return "";
  }
}

char ReadProcessState(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(in)),
                   std::istreambuf_iterator<char>());
  // "pid (comm) S ...": comm may hold spaces and parentheses; the state
  // follows the last ')'.
  const std::size_t close = text.rfind(')');
  if (close == std::string::npos || close + 2 >= text.size()) return '?';
  return text[close + 2];
}

StatusOr<std::unique_ptr<ProgressWatch>> ProgressWatch::Create() {
  std::vector<std::string> parents = {"/dev/shm"};
  const char* tmp = std::getenv("TMPDIR");
  if (tmp != nullptr && *tmp != '\0') parents.push_back(tmp);
  parents.push_back("/tmp");
  std::string why;
  for (const std::string& parent : parents) {
    std::string templ = parent + "/dstrain-progress-XXXXXX";
    if (::mkdtemp(templ.data()) != nullptr) {
      return std::unique_ptr<ProgressWatch>(new ProgressWatch(templ));
    }
    why += (why.empty() ? "" : "; ") + parent + ": " + std::strerror(errno);
  }
  return Unavailable("agent: no folder for progress records (" + why + ")");
}

ProgressWatch::~ProgressWatch() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    ranks_.clear();
  }
  RemoveTree(root_, 1);
}

std::string ProgressWatch::DirOf(const std::string& job_id, int attempt) const {
  return root_ + "/" + FileSafe(job_id) + ".a" + std::to_string(attempt);
}

StatusOr<std::string> ProgressWatch::Prepare(const std::string& job_id,
                                             int attempt,
                                             const std::vector<int>& ranks) {
  const std::string dir = DirOf(job_id, attempt);
  RemoveTree(dir, 0);
  if (::mkdir(dir.c_str(), 0700) != 0) {
    return Unavailable("agent: cannot make " + dir + ": " +
                       std::strerror(errno));
  }
  for (int rank : ranks) {
    Status made = contract::CreateProgressFile(ProgressFileOf(dir, rank));
    if (!made.ok()) {
      RemoveTree(dir, 0);
      return made;
    }
  }
  return dir;
}

void ProgressWatch::Attach(const std::string& job_id, int attempt,
                           const std::vector<std::pair<int, pid_t>>& ranks) {
  const std::string dir = DirOf(job_id, attempt);
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& [rank, pid] : ranks) {
    StatusOr<std::unique_ptr<contract::ProgressReader>> reader =
        contract::ProgressReader::Open(ProgressFileOf(dir, rank));
    if (!reader.ok()) {
      log::Warn("agent: rank " + std::to_string(rank) + " of job " + job_id +
                " reports no progress: " + reader.status().message());
      continue;
    }
    ranks_[Key{job_id, attempt, rank}] =
        Watched{pid, std::move(reader).value()};
  }
}

void ProgressWatch::Remove(const std::string& job_id, int attempt) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto it = ranks_.begin(); it != ranks_.end();) {
      if (std::get<0>(it->first) == job_id &&
          std::get<1>(it->first) == attempt) {
        it = ranks_.erase(it);
      } else {
        ++it;
      }
    }
  }
  RemoveTree(DirOf(job_id, attempt), 0);
}

std::vector<proto::RankProgress> ProgressWatch::Snapshot() const {
  std::vector<proto::RankProgress> out;
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& [key, watched] : ranks_) {
    StatusOr<contract::ProgressSnapshot> s = watched.reader->Read();
    if (!s.ok()) continue;  // mid-write every try: the next heartbeat reads
    proto::RankProgress p;
    p.set_job_id(std::get<0>(key));
    p.set_attempt(std::get<1>(key));
    p.set_rank(std::get<2>(key));
    p.set_step(s->step);
    p.set_phase(s->phase);
    p.set_updated_unix_us(s->updated_unix_us);
    for (const contract::CollectiveProgress& c : s->comms) {
      proto::CollectiveState* cs = p.add_comms();
      cs->set_comm(c.comm);
      cs->set_op(c.op);
      cs->set_dtype(c.dtype);
      cs->set_started_seq(c.started_seq);
      cs->set_completed_seq(c.completed_seq);
      cs->set_numel(c.numel);
    }
    p.set_process(ProcessStateName(ReadProcessState(watched.pid)));
    out.push_back(std::move(p));
  }
  return out;
}

}  // namespace dstrain::agent
