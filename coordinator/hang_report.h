#pragma once
// The wavefront of a hung job, from its ranks' last progress records
// (proto RankProgress, as their agents read them): where the waiting ranks
// are and who never arrived there.
//
// On the world communicator (each record's first slot), the frontier is
// the highest collective any rank started. Ranks waiting in it (started,
// not completed) are `waiting`; the culprits are
//   - ranks that never reported a collective ("no-record"),
//   - ranks whose last start is below the frontier ("never-arrived"),
//   - ranks whose process is stopped, a zombie or in an uninterruptible
//     wait ("stopped"), wherever they are,
// and when that names nobody (every rank waits in the frontier, none
// stopped), every rank not waiting. When a rank is stopped, it alone is
// named (with any other stopped one): the others wait for it wherever
// they are, also behind the frontier when it stopped just after starting
// the next collective. The summary is one line for events:
//   "no progress for 31 s: ranks 0, 1, 3 wait in world all-reduce #412
//    (10976 x float32); rank 2 on node-b never arrived (last: all-reduce
//    #411 done, step 57, process stopped)"
// naming at most 8 culprits ("and 5 more"); the report lists them all.
// Pure.

#include <string>
#include <vector>

#include "dstrain.pb.h"

namespace dstrain::coordinator {

struct RankView {
  int rank = 0;
  std::string host;
  bool has_progress = false;
  proto::RankProgress progress;
};

// `ranks` by rank.
proto::HangReport DescribeHang(const std::vector<RankView>& ranks,
                               double stalled_s);

}  // namespace dstrain::coordinator
