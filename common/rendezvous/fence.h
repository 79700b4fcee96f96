#pragma once
// A fence: each of `world` ranks contributes one record under the fence's
// name, and each learns, once all have, the records of the ranks it asks
// for (PMIx's fence with data collection). It is a barrier and an
// exchange in one call, so a store that knows fences (the coordinator's,
// through each node's agent) can serve a whole node's ranks with one
// request, where set, add, wait and get cost four round trips per rank.
//
// The keys a fence leaves in the store, under its name:
//   <name>/r/<rank>   the rank's record
//   <name>/count      how many distinct ranks contributed
//   <name>/done       present once count reached world
// Every implementation writes these, so a fence can be inspected (and its
// missing ranks named) with plain Check and Get.

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "common/status.h"

namespace dstrain::rendezvous {

class KeyValueStore;

struct FenceRequest {
  std::string name;       // scoped like any key of the store
  int world = 0;          // ranks that complete the fence
  int rank = 0;           // the caller's, in [0, world)
  std::string record;     // the caller's contribution
  std::vector<int> want;  // ranks whose records come back
  std::chrono::milliseconds timeout{30000};
};

// Rank -> record, for the ranks asked for.
using FenceRecords = std::map<int, std::string>;

std::string FenceRecordKey(const std::string& name, int rank);
std::string FenceCountKey(const std::string& name);
std::string FenceDoneKey(const std::string& name);

// INVALID_ARGUMENT naming the field when the request cannot be a fence
// (empty name, world < 1, rank or a wanted rank outside [0, world)).
Status CheckFenceRequest(const FenceRequest& request);

// The fence through any store's set, add, wait and get: the rank's
// record, its count, `done` from the rank whose add completes the count,
// then the wanted records once `done` exists. Each rank must join once
// (a second join of the same rank counts twice here).
StatusOr<FenceRecords> FenceThroughStore(KeyValueStore& store,
                                         const FenceRequest& request);

// ", ranks 3, 7 never arrived" (from Check of each record key), or "" when
// none is missing or the store cannot say: for a fence's timeout message.
std::string FenceLatecomers(KeyValueStore& store, const std::string& name,
                            int world);

}  // namespace dstrain::rendezvous
