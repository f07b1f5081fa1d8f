#pragma once
// Wall-clock time of a piece of work, for the `seconds` of every stage's result and for
// benchmarks: `const Timer t; ...; r.seconds = t.seconds();` (steady clock, never goes back).

#include <chrono>

namespace epe {

class Timer {
 public:
  Timer() : start_(std::chrono::steady_clock::now()) {}
  // Seconds since construction or the last restart().
  double seconds() const { return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count(); }
  void restart() { start_ = std::chrono::steady_clock::now(); }

 private:
  std::chrono::steady_clock::time_point start_;
};

}  // namespace epe
