#pragma once
// `epe bench generator`: one generator forward + backward on a crop (the reference's training
// step without the discriminators), timed after a warm-up pass, with the process's peak memory.

#include <cstdint>
#include <string>

#include "epe/core/options.h"
#include "epe/nn/network_config.h"

namespace epe {

enum class BenchMaterials { demo, uniform };
const Choices<BenchMaterials>& bench_materials();  // "demo", "uniform"

struct GeneratorBenchOptions {
  nn::NetworkPreset preset = nn::NetworkPreset::paper;
  int size = 196;
  int iterations = 2;  // timed passes after one warm-up
  std::string device = "cpu";
  std::string precision = "float32";              // bfloat16 | float16 autocast on CUDA
  BenchMaterials classes = BenchMaterials::demo;  // demo: a rendered street scene's one-hot maps; uniform: 1/K
  bool dense = false;                             // class encoders on whole frames (the reference's way)
  double reference_seconds = 32.0;                // the reference's seconds per pass here (docs/BASELINES.md); 0 = none
};

struct GeneratorBenchResult {
  std::int64_t parameters = 0;
  double seconds_per_pass = 0, steps_per_second = 0;
  std::int64_t peak_rss_bytes = 0;
  int classes_present = -1;  // materials present in the crop (demo maps)
};

GeneratorBenchResult bench_generator(const GeneratorBenchOptions& o);

}  // namespace epe
