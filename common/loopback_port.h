#pragma once
// A TCP port on loopback that the kernel just handed out and that is free
// again once this returns: for a rendezvous among processes of this host
// (a peer may still race for it, which a local benchmark or a test accepts).

namespace dstrain {

// 0 when no port could be had.
int FreeLoopbackPort();

}  // namespace dstrain
