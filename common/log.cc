#include "common/log.h"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <cstdlib>
#include <memory>
#include <optional>

namespace dstrain::log {
namespace {

std::optional<spdlog::level::level_enum> ParseLevel(std::string_view name) {
  if (name == "debug") return spdlog::level::debug;
  if (name == "info") return spdlog::level::info;
  if (name == "warn" || name == "warning") return spdlog::level::warn;
  if (name == "error") return spdlog::level::err;
  if (name == "off") return spdlog::level::off;
  return std::nullopt;
}

// Our own logger rather than spdlog's default one, so a library that
// reconfigures the default cannot change our format. Created on first use;
// never destroyed, so logging from static destructors stays safe.
spdlog::logger& Logger() {
  static spdlog::logger* logger = [] {
    auto sink = std::make_shared<spdlog::sinks::stderr_color_sink_mt>(
        spdlog::color_mode::automatic);
    auto* l = new spdlog::logger("dstrain", std::move(sink));
    l->set_pattern("[%Y-%m-%d %H:%M:%S.%e] [%^%l%$] %v");
    l->set_level(spdlog::level::info);
    if (const char* env = std::getenv("DSTRAIN_LOG_LEVEL")) {
      if (auto lvl = ParseLevel(env)) l->set_level(*lvl);
    }
    // Errors must reach the terminal even if the process dies right after.
    l->flush_on(spdlog::level::warn);
    return l;
  }();
  return *logger;
}

// The command's own lines: bare text, flushed per line.
spdlog::logger& PlainLogger(bool to_stderr) {
  static spdlog::logger* out = [] {
    auto* l = new spdlog::logger(
        "dstrain.stdout", std::make_shared<spdlog::sinks::stdout_sink_mt>());
    l->set_pattern("%v");
    l->flush_on(spdlog::level::trace);
    return l;
  }();
  static spdlog::logger* err = [] {
    auto* l = new spdlog::logger(
        "dstrain.stderr", std::make_shared<spdlog::sinks::stderr_sink_mt>());
    l->set_pattern("%v");
    l->flush_on(spdlog::level::trace);
    return l;
  }();
  return to_stderr ? *err : *out;
}

}  // namespace

void Print(const std::string& line) {
  PlainLogger(false).log(spdlog::level::info, spdlog::string_view_t(line));
}
void PrintError(const std::string& line) {
  PlainLogger(true).log(spdlog::level::info, spdlog::string_view_t(line));
}

void Debug(const std::string& message) {
  Logger().log(spdlog::level::debug, spdlog::string_view_t(message));
}
void Info(const std::string& message) {
  Logger().log(spdlog::level::info, spdlog::string_view_t(message));
}
void Warn(const std::string& message) {
  Logger().log(spdlog::level::warn, spdlog::string_view_t(message));
}
void Error(const std::string& message) {
  Logger().log(spdlog::level::err, spdlog::string_view_t(message));
}

bool SetLevel(std::string_view level) {
  auto lvl = ParseLevel(level);
  if (!lvl) return false;
  Logger().set_level(*lvl);
  return true;
}

std::string Level() {
  switch (Logger().level()) {
    case spdlog::level::trace:
    case spdlog::level::debug:
      return "debug";
    case spdlog::level::info:
      return "info";
    case spdlog::level::warn:
      return "warn";
    case spdlog::level::err:
    case spdlog::level::critical:
      return "error";
    default:
      return "off";
  }
}

bool DebugEnabled() { return Logger().should_log(spdlog::level::debug); }

}  // namespace dstrain::log
