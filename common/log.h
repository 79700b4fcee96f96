#pragma once
// Process-wide logging: one line per message on stderr, prefixed with the
// local time and the level, e.g.
//   [2026-11-28 20:35:33.120] [info] coordinator listening on 127.0.0.1:7070
// A thin wrapper over spdlog whose header includes neither spdlog nor fmt, so
// translation units that include libtorch (which ships its own fmt) may use
// it. Messages are plain strings: build them with concatenation or
// std::ostringstream. Every function is thread-safe; lines from different
// threads never interleave.
//
// The initial level is `info`, or the value of the environment variable
// DSTRAIN_LOG_LEVEL when it names a level.

#include <string>
#include <string_view>

namespace dstrain::log {

void Debug(const std::string& message);
void Info(const std::string& message);
void Warn(const std::string& message);
void Error(const std::string& message);

// Sets the least severe level that is printed: "debug", "info", "warn"
// (or "warning"), "error" or "off". Returns false, changing nothing, for any
// other name.
bool SetLevel(std::string_view level);

// The current level's name, as SetLevel spells it.
std::string Level();

// Whether Debug() prints anything; lets callers skip building costly
// messages.
bool DebugEnabled();

// A line for the person running the command, as written: no time, no
// level. Print goes to stdout, PrintError to stderr; each line is flushed
// at once (an agent relays worker output line by line). For a command's
// own progress and results ("dstrain worker: done, 300 steps, ..."), where
// Info/Warn/Error are for the service's log.
void Print(const std::string& line);
void PrintError(const std::string& line);

}  // namespace dstrain::log
