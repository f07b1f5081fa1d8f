#pragma once
// `epe bench generator`: one generator forward + backward on a crop (the reference's training
// step without the discriminators), timed after a warm-up pass, with the process's peak memory.

#include <cstdint>
#include <string>

namespace epe {

struct GeneratorBenchOptions {
  std::string preset = "paper";
  int size = 196;
  int iterations = 2;  // timed passes after one warm-up
  std::string device = "cpu";
  std::string precision = "float32";  // bfloat16 | float16 autocast on CUDA
  std::string classes = "demo";       // demo (one-hot materials of a rendered street scene) | uniform (all 1/K)
  bool dense = false;                 // class encoders on whole frames (the reference's way)
};

struct GeneratorBenchResult {
  std::int64_t parameters = 0;
  double seconds_per_pass = 0, steps_per_second = 0;
  std::int64_t peak_rss_bytes = 0;
  int classes_present = -1;  // materials present in the crop (demo maps)
};

GeneratorBenchResult bench_generator(const GeneratorBenchOptions& o);

}  // namespace epe
