#pragma once
// The torus all-reduce's parts: one description that the planner turns
// into the schedule it simulates (topology/plan/torus_allreduce.h) and the
// workers run (worker/comm/torus_parts_allreduce.h), so the two cannot
// drift.
//
// Working one dimension at a time drives only the two links of that
// dimension out of a host's 2·d. Instead the buffer is split into parts
// that run at once (Blue Gene's and TPU pods' way, the bucket algorithms of
// Jain & Sabharwal, ICS 2010): for every dimension of extent >= 2, a part
// that starts there in the + direction and, when the extent is >= 3, one
// in the - direction (with extent 2 both neighbours are one host over one
// link, so a second part would only share it). Part p reduce-scatters
// along its dimensions in order — its first, then the next ones cyclically
// — and all-gathers back in the reverse order, every ring along a line of
// the torus in the part's direction. At every level the parts use
// different dimensions or directions, so every link carries data both ways
// at once. With hosts of g ranks, each part first reduce-scatters inside
// the host (and all-gathers there last), so each of a host's g lines
// carries 1/g of the part.
//
// Sub-communicators (their names are the contract): per part p and
// dimension d in its order, "torus_p<p>_<x|y|z|w>" — colour: the line (the
// other coordinates, and the local rank), key: the coordinate along d,
// reversed for the - direction so that the backend's ring runs that way;
// and "torus_p<p>_local" (colour: the host, key: the local rank) when
// hosts have several ranks. Each part has its own, so the parts' collectives
// never share a communicator.
//
// Pure functions; no torch.

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace dstrain::contract {

struct TorusPart {
  int direction = 1;       // +1 or -1
  std::vector<int> order;  // dimensions, reduce-scatter order
};

// The parts for a box of these extents (per torus dimension, 1 to 4 of
// them); dimensions of extent 1 take no part. Empty when no dimension is
// longer than 1.
std::vector<TorusPart> TorusParts(const std::vector<int>& extents);

// "x", "y", "z", "w".
const char* TorusDimName(int dim);

// "torus_p<part>_<dim>", and "torus_p<part>_local" for the host level.
std::string TorusPartCommName(int part, int dim);
std::string TorusPartLocalCommName(int part);

// Part p's elements [first, second) of n split over `parts`: as even as
// possible, the first n % parts parts one longer (some are empty when n <
// parts).
std::pair<std::int64_t, std::int64_t> TorusPartRange(std::int64_t n, int parts,
                                                     int p);

}  // namespace dstrain::contract
