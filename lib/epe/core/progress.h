#pragma once
// Progress of long work on stderr: on a terminal a bar with count, rate and ETA, redrawn at
// most ~10 times a second; otherwise (logs, CI) one plain line every `interval_s` seconds.
// Silent when the log level is above info. Thread-safe: several workers may call add().

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <mutex>
#include <string>

namespace epe {

class Progress {
 public:
  enum class Style { automatic, bar, lines, none };

  // total = 0 means unknown (no ETA, no percentage). `unit` names what is counted ("frames").
  Progress(std::string label, std::int64_t total, std::string unit = "items", Style style = Style::automatic,
           std::FILE* out = stderr, double interval_s = 10.0);
  ~Progress();  // finishes if not finished yet

  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  void add(std::int64_t n = 1);
  // Sets the total once it is known (e.g. after a list was read).
  void set_total(std::int64_t total);
  void set(std::int64_t done);
  // Prints the final line (count, elapsed time, mean rate). Idempotent.
  void finish();
  // The next phase of a stage with several (e.g. the features of each set, then crops): finishes
  // the current line and counts anew from zero under `label`. Library code calls this on the
  // Progress its caller passed in rather than making bars of its own.
  void phase(std::string label, std::int64_t total, std::string unit);

  std::int64_t done() const;
  double elapsed_s() const;
  Style style() const { return style_; }

  // The text of one status line, e.g. "crops [ 120/1000] 12.0% 35.1 frames/s ETA 25s".
  // Exposed for tests.
  static std::string format_line(const std::string& label, std::int64_t done, std::int64_t total,
                                 const std::string& unit, double elapsed_s, int bar_width);

 private:
  void draw_locked(bool final_line);

  std::string label_;
  std::int64_t total_;
  std::string unit_;
  Style style_;
  std::FILE* out_;
  double interval_s_;
  std::chrono::steady_clock::time_point start_, last_draw_;
  std::int64_t done_ = 0;
  std::int64_t drawn_done_ = -1;  // count shown by the last line drawn
  bool finished_ = false;
  mutable std::mutex mutex_;
};

// "1h02m", "3m05s", "12.3s".
std::string format_duration(double seconds);
// "1.5 GiB", "12.0 MiB", "512 B".
std::string format_bytes(double bytes);
// One number with a printf format (e.g. "%.3f"); "-" for NaN and infinities (report tables).
std::string format_number(double v, const char* printf_format);
// printf into a string (console tables and summaries); any length.
std::string strprintf(const char* format, ...) __attribute__((format(printf, 1, 2)));

}  // namespace epe
