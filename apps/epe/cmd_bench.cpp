#include <cstdio>

#include "command.h"
#include "epe/core/error.h"
#include "epe/core/progress.h"
#include "epe/core/runtime.h"
#include "epe/crops/bench.h"

namespace epe::app {

namespace {

int bench_crops_command(const Args& args) {
  CropsBenchOptions o;
  double reference = 6.5;
  CommonOptions c;
  OptionSet s("epe bench crops [--frames N] [--height H --width W] [--vgg WEIGHTS] [--device D]",
              "Crops per second of the crop stage on rendered demo frames, measured in one run: the reference's\n"
              "loop (one forward pass per random crop, emulated with our network), epe crops --mode random and\n"
              "--mode grid; their ratios; peak memory. --reference-crops-per-s is the reference implementation's\n"
              "own figure on this kind of machine (shared/reference/BASELINES.md: 6.5 with 2 threads).");
  s.add("frames", &o.frames, "demo frames");
  s.add("height", &o.height, "frame height");
  s.add("width", &o.width, "frame width");
  s.add("crops-per-image", &o.crops_per_image, "random crops per frame");
  s.add("vgg", &o.vgg, "VGG-16 weights (default: random init; speed does not depend on them)");
  s.add("device", &o.device, "cpu | cuda | cuda:N");
  s.add("precision", &o.precision, "float32 | float16 | bfloat16 (CUDA)");
  s.add("seed", &o.seed, "seed");
  s.add("reference-crops-per-s", &reference, "the reference implementation's measured crops/s (0 = not shown)");
  bool no_loop = false;
  s.add("no-reference-loop", &no_loop, "skip the reference-loop row").not_recorded();
  s.add("work", &o.work, "folder for frames and stores (default: a temporary folder)");
  add_common(s, c);
  if (!s.parse(args)) return 0;
  o.reference_loop = !no_loop;
  apply_common(c);
  std::printf("bench crops: %d frames of %dx%d, %d crops/frame in random modes, device %s, %d threads\n", o.frames,
              o.height, o.width, o.crops_per_image, o.device.c_str(), threads());
  std::fflush(stdout);
  std::vector<CropsBenchRow> rows = bench_crops(o);
  std::printf("%-15s %8s %8s %10s %10s %10s\n", "mode", "frames", "crops", "seconds", "crops/s", "peak RSS");
  double loop = 0, random = 0, grid = 0;
  for (const auto& r : rows) {
    std::printf("%-15s %8lld %8lld %10.2f %10.1f %10s\n", r.name.c_str(), static_cast<long long>(r.frames),
                static_cast<long long>(r.crops), r.seconds, r.crops_per_s,
                format_bytes(static_cast<double>(r.peak_rss_bytes)).c_str());
    if (r.name == "reference-loop") loop = r.crops_per_s;
    if (r.name == "random") random = r.crops_per_s;
    if (r.name == "grid") grid = r.crops_per_s;
  }
  if (loop > 0) {
    std::printf("ratio grid / reference-loop:   %.1fx\n", grid / loop);
    std::printf("ratio random / reference-loop: %.2fx\n", random / loop);
  }
  std::printf("ratio grid / random:           %.1fx\n", grid / random);
  if (reference > 0) {
    std::printf("vs the reference implementation's %.1f crops/s: grid %.1fx, random %.2fx\n", reference,
                grid / reference, random / reference);
  }
  return 0;
}

}  // namespace

int run_bench(const Args& args) {
  const char* usage =
      "Usage: epe bench <benchmark> [options]   (epe bench <benchmark> --help for its options)\n\n"
      "Benchmarks:\n  crops   crops/s of epe crops (random, grid) vs the reference's per-crop loop\n";
  if (!args.empty() && (args[0] == "--help" || args[0] == "-h")) {
    std::printf("%s", usage);
    return 0;
  }
  EPE_CHECK(!args.empty(), "epe bench: name a benchmark (crops); epe bench --help lists them");
  EPE_CHECK(args[0] == "crops", "epe bench: unknown benchmark '", args[0], "' (crops)");
  return bench_crops_command(Args(args.begin() + 1, args.end()));
}

}  // namespace epe::app
