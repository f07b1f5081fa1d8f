#include "epe/core/progress.h"

#include <unistd.h>

#include <cmath>
#include <cstdarg>
#include <exception>

#include "epe/core/error.h"
#include "epe/core/log.h"

namespace epe {

std::string format_duration(double s) {
  if (!(s >= 0) || !std::isfinite(s)) return "?";
  char buf[64];
  if (s < 60) {
    std::snprintf(buf, sizeof buf, "%.1fs", s);
  } else if (s < 3600) {
    long t = std::lround(s);
    std::snprintf(buf, sizeof buf, "%ldm%02lds", t / 60, t % 60);
  } else {
    long t = std::lround(s / 60);
    std::snprintf(buf, sizeof buf, "%ldh%02ldm", t / 60, t % 60);
  }
  return buf;
}

std::string format_number(double v, const char* printf_format) {
  if (!std::isfinite(v)) return "-";
  char buf[64];
  std::snprintf(buf, sizeof buf, printf_format, v);
  return buf;
}

std::string strprintf(const char* format, ...) {
  va_list ap, again;
  va_start(ap, format);
  va_copy(again, ap);
  const int n = std::vsnprintf(nullptr, 0, format, ap);
  va_end(ap);
  std::string s(n > 0 ? static_cast<std::size_t>(n) : 0, '\0');
  if (n > 0) std::vsnprintf(s.data(), s.size() + 1, format, again);
  va_end(again);
  return s;
}

std::string format_bytes(double b) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int u = 0;
  while (b >= 1024 && u < 4) {
    b /= 1024;
    ++u;
  }
  char buf[64];
  if (u == 0)
    std::snprintf(buf, sizeof buf, "%.0f %s", b, units[u]);
  else
    std::snprintf(buf, sizeof buf, "%.1f %s", b, units[u]);
  return buf;
}

Progress::Progress(std::string label, std::int64_t total, std::string unit, Style style, std::FILE* out,
                   double interval_s)
    : label_(std::move(label)),
      total_(total),
      unit_(std::move(unit)),
      style_(style),
      out_(out),
      interval_s_(interval_s) {
  if (log_level() > LogLevel::info) style_ = Style::none;
  if (style_ == Style::automatic) style_ = (out_ && isatty(fileno(out_))) ? Style::bar : Style::lines;
  start_ = last_draw_ = std::chrono::steady_clock::now();
}

Progress::~Progress() {
  if (std::uncaught_exceptions() > 0) return;  // the error message says enough
  try {
    finish();
  } catch (...) {
  }
}

std::string Progress::format_line(const std::string& label, std::int64_t done, std::int64_t total,
                                  const std::string& unit, double elapsed, int bar_width) {
  std::string s = label;
  double rate = elapsed > 0 ? done / elapsed : 0.0;
  char buf[160];
  if (total > 0) {
    double frac = std::min(1.0, static_cast<double>(done) / total);
    if (bar_width > 0) {
      int filled = static_cast<int>(frac * bar_width);
      s += " [" + std::string(filled, '#') + std::string(bar_width - filled, '.') + "]";
    }
    std::snprintf(buf, sizeof buf, " %lld/%lld %5.1f%%", static_cast<long long>(done), static_cast<long long>(total),
                  100.0 * frac);
    s += buf;
  } else {
    std::snprintf(buf, sizeof buf, " %lld", static_cast<long long>(done));
    s += buf;
  }
  std::snprintf(buf, sizeof buf, " %.1f %s/s", rate, unit.c_str());
  s += buf;
  if (total > 0 && done < total && rate > 0)
    s += " ETA " + format_duration((total - done) / rate);
  else
    s += " elapsed " + format_duration(elapsed);
  return s;
}

void Progress::add(std::int64_t n) {
  std::lock_guard<std::mutex> lock(mutex_);
  done_ += n;
  draw_locked(false);
}

void Progress::set_total(std::int64_t total) {
  std::lock_guard<std::mutex> lock(mutex_);
  total_ = total;
}

void Progress::set(std::int64_t done) {
  std::lock_guard<std::mutex> lock(mutex_);
  done_ = done;
  draw_locked(false);
}

std::int64_t Progress::done() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return done_;
}

double Progress::elapsed_s() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

void Progress::finish() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (finished_) return;
  finished_ = true;
  draw_locked(true);
}

void Progress::phase(std::string label, std::int64_t total, std::string unit) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (!finished_ && done_ > 0) draw_locked(true);
  label_ = std::move(label);
  total_ = total;
  unit_ = std::move(unit);
  done_ = 0;
  drawn_done_ = -1;
  finished_ = false;
  start_ = last_draw_ = std::chrono::steady_clock::now();
}

void Progress::draw_locked(bool final_line) {
  if (style_ == Style::none || !out_) return;
  auto now = std::chrono::steady_clock::now();
  double since = std::chrono::duration<double>(now - last_draw_).count();
  double min_gap = style_ == Style::bar ? 0.1 : interval_s_;
  if (!final_line && since < min_gap) return;
  // A periodic line that already showed the final count is not repeated.
  if (final_line && style_ == Style::lines && drawn_done_ == done_) return;
  last_draw_ = now;
  drawn_done_ = done_;
  double elapsed = std::chrono::duration<double>(now - start_).count();
  if (style_ == Style::bar) {
    std::string line = format_line(label_, done_, total_, unit_, elapsed, 30);
    std::fprintf(out_, "\r%s\033[K%s", line.c_str(), final_line ? "\n" : "");
  } else {
    std::string line = format_line(label_, done_, total_, unit_, elapsed, 0);
    std::fprintf(out_, "%s\n", line.c_str());
  }
  std::fflush(out_);
}

}  // namespace epe
