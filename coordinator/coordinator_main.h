#pragma once
// `dstrain coordinator`: a standalone coordinator that serves until SIGINT
// or SIGTERM.

#include <string>

namespace dstrain::coordinator {

// `listen` is host:port (port 0 picks one). `token_or_file` is the cluster
// token, or a file holding it (rpc::ResolveToken); empty generates one and
// prints it. Prints "dstrain coordinator listening on <address>" (and the
// token line when generated) to stdout once serving. Blocks SIGINT and
// SIGTERM in the calling thread (and the server threads it starts) and waits
// for one, then shuts down and restores the signal mask.
// Returns 0 after a clean shutdown, 2 for bad arguments, 1 when the server
// cannot start.
int RunCoordinatorCommand(const std::string& listen,
                          const std::string& token_or_file);

}  // namespace dstrain::coordinator
