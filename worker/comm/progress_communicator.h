#pragma once
// A Communicator that tells the rank's agent where it is: before each
// collective it writes the collective's operation, sequence number (its
// own count, 1-based, in issue order), size and dtype into the rank's
// progress record (common/contract/progress_record.h), and when the
// collective's Wait returns successfully, that it completed. The agent
// reads the record at each heartbeat; the coordinator finds hangs from it.
// Sub-communicators from Split report too, each in a slot of its own named
// "split-<n>" in the order they were split off (the topology plan's
// sub-communicators, in the plan's order) — up to the record's slots; the
// rest go unreported.
//
// Cost per collective: two short writes to a shared page under an
// uncontended lock. Threads: as the wrapped communicator.

#include <memory>
#include <string>

#include "common/contract/progress_record.h"
#include "worker/comm/communicator.h"

namespace dstrain::comm {

// Wraps `inner`; `writer` must outlive the result and its splits.
std::unique_ptr<Communicator> WithProgressReports(
    std::unique_ptr<Communicator> inner, contract::ProgressWriter* writer,
    const std::string& name);

}  // namespace dstrain::comm
