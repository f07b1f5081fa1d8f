#pragma once
// The reference's adaptive backprop controller (one per discriminator): it tunes the probability
// that its discriminator runs in a step so that its accuracy stays near `target`.

#include <algorithm>
#include <cstdint>

namespace epe {

struct Controller {
  double p = 1.01, sum = 0;
  std::int64_t step = 1, wait = 10, count = 0;
  void tune(double accuracy, double target) {
    sum += accuracy;
    ++count;
    if (count > wait - 1) {
      const double r = sum / double(count);
      step = std::clamp<std::int64_t>(step + (r > target ? 1 : -1), 0, 1000);
      sum = 0;
      count = 0;
      wait = step;
    }
    p = 1.0 / (1.0 + double(step));
  }
};

}  // namespace epe
