#pragma once
// Levelled logging to stderr. Commands set the level from `--log-level` / `--quiet`;
// library code logs warnings through here (e.g. "random-init weights") and reports
// progress through epe::Progress, never by printing to stdout.

#include <functional>
#include <string>

#include "epe/core/error.h"

namespace epe {

enum class LogLevel { debug = 0, info = 1, warn = 2, error = 3, quiet = 4 };

// Parses "debug|info|warn|error|quiet"; a UserError names the option otherwise.
LogLevel parse_log_level(const std::string& s);
const char* to_string(LogLevel level);

void set_log_level(LogLevel level);
LogLevel log_level();

// Sets the log level for a scope and restores the previous one on exit (also on exceptions).
class ScopedLogLevel {
 public:
  explicit ScopedLogLevel(LogLevel level) : saved_(log_level()) { set_log_level(level); }
  ~ScopedLogLevel() { set_log_level(saved_); }
  ScopedLogLevel(const ScopedLogLevel&) = delete;
  ScopedLogLevel& operator=(const ScopedLogLevel&) = delete;

 private:
  LogLevel saved_;
};

// Where log lines go; default writes "[epe] level: msg" to stderr. Tests can capture.
using LogSink = std::function<void(LogLevel, const std::string&)>;
void set_log_sink(LogSink sink);  // nullptr restores the default

void log_message(LogLevel level, const std::string& msg);

template <class... A>
void log_debug(const A&... a) {
  if (log_level() <= LogLevel::debug) log_message(LogLevel::debug, cat(a...));
}
template <class... A>
void log_info(const A&... a) {
  if (log_level() <= LogLevel::info) log_message(LogLevel::info, cat(a...));
}
template <class... A>
void log_warn(const A&... a) {
  if (log_level() <= LogLevel::warn) log_message(LogLevel::warn, cat(a...));
}
template <class... A>
void log_error(const A&... a) {
  if (log_level() <= LogLevel::error) log_message(LogLevel::error, cat(a...));
}

}  // namespace epe
