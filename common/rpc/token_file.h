#pragma once
// Where a process gets the cluster token from: a file named by a flag, or
// the DSTRAIN_TOKEN environment variable. Never from a command-line literal
// (it would show in `ps` and shell history), and never by guessing: a flag
// that names a file that is missing, empty, unreadable or readable by other
// users is an error naming the path and the fix, like ssh refusing a private
// key with open permissions.
//
// The file's first line, without surrounding blanks, is the token; the
// result passes ValidateToken. Functions keep no state and are thread-safe
// (TokenFromEnvironment reads the environment).

#include <string>
#include <string_view>

#include "common/status.h"

namespace dstrain::rpc {

// The variable a literal token may come from when no file is given.
inline constexpr char kTokenEnvironmentVariable[] = "DSTRAIN_TOKEN";

// Reads the token from `path`. Errors (INVALID_ARGUMENT, or NOT_FOUND when
// the file does not exist) start with `flag` and the path: no such file (with
// how to make one), not a regular file, cannot be read, group/world
// permissions (with the chmod that fixes it), empty first line, invalid
// token.
StatusOr<std::string> ReadTokenFile(const std::string& path,
                                    std::string_view flag);

// Writes a fresh random token (GenerateToken) to `path`, created with mode
// 0600; refuses (ALREADY_EXISTS) to replace an existing file, so a restart
// with the same flags cannot lock out every agent. Returns the token.
StatusOr<std::string> CreateTokenFile(const std::string& path,
                                      std::string_view flag);

// The token named by `token_file` when it is not empty, else the value of
// DSTRAIN_TOKEN, else INVALID_ARGUMENT saying how to give one.
StatusOr<std::string> ResolveClusterToken(const std::string& token_file,
                                          std::string_view flag);

}  // namespace dstrain::rpc
