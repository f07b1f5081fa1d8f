#include <cstdio>

#include "command.h"
#include "epe/core/error.h"
#include "epe/core/progress.h"
#include "epe/core/runtime.h"
#include "epe/crops/bench.h"
#include "epe/layout/bench.h"
#include "epe/metrics/bench.h"
#include "epe/train/bench.h"
#include "epe/match/bench.h"

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
  if (!parse_command(s, c, args)) return 0;
  o.reference_loop = !no_loop;
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

int bench_match_command(const Args& args) {
  MatchBenchOptions o;
  CommonOptions c;
  OptionSet s("epe bench match [--n 100000] [-k 10] [--approx SPEC --nprobe P] [--no-exact]",
              "epe match + epe weights end to end on N x N clustered random unit vectors (d = 512) stored as crop\n"
              "stores, against the reference's way: find_knn.py emulated (FAISS IndexFlatL2 in memory) and\n"
              "filter.py + compute_weights.py at their measured rates (BASELINES.md); an approximate index with\n"
              "its recall@k against exact search on a sample; times and peak memory.");
  s.add("n", &o.n, "source and target crops");
  s.add("k,k", &o.k, "neighbours");
  s.add("clusters", &o.clusters, "cluster centres of the features (0 = uniform random)");
  s.add("approx", &o.approx, "--index of the approximate row (default ivf: 4 sqrt(N) lists)");
  s.add("nprobe", &o.nprobe, "IVF probes of the approximate row");
  s.add("recall-sample", &o.recall_sample, "source crops on which recall@k is measured");
  bool no_exact = false;
  s.add("no-exact", &no_exact, "skip the exact rows (for very large N)");
  std::string grid = "2x4";
  s.add("grid", &grid, "source x target shards of the sharded row (e.g. 2x4)");
  s.add("work", &o.work, "folder for the stores (default: a temporary folder)");
  s.add("seed", &o.seed, "seed");
  if (!parse_command(s, c, args)) return 0;
  o.exact = !no_exact;
  EPE_CHECK(std::sscanf(grid.c_str(), "%dx%d", &o.grid_src, &o.grid_dst) == 2, "option --grid: '", grid,
            "' is not MxN (e.g. 2x4)");
  std::printf("bench match: %lld x %lld crops, d = 512, k = %d, %d clusters, %d threads\n", static_cast<long long>(o.n),
              static_cast<long long>(o.n), o.k, o.clusters, threads());
  std::fflush(stdout);
  MatchBenchResult r = bench_match(o);
  std::printf("%-44s %10s %10s %10s  %s\n", "step", "seconds", "pairs", "peak RSS", "");
  double ref_knn = 0, exact = 0, weights = 0, ref_fw = 0, approx = 0, approx_w = 0;
  for (const auto& row : r.rows) {
    std::printf("%-44s %10.2f %10lld %10s  %s\n", row.name.c_str(), row.seconds, static_cast<long long>(row.pairs),
                row.peak_rss_bytes ? format_bytes(static_cast<double>(row.peak_rss_bytes)).c_str() : "-",
                row.note.c_str());
    if (row.name.rfind("reference find_knn", 0) == 0) ref_knn = row.seconds;
    if (row.name == "epe match --index exact") exact = row.seconds;
    if (row.name == "epe weights") weights = row.seconds;
    if (row.name.rfind("reference filter", 0) == 0) ref_fw = row.seconds;
    if (row.name.rfind("epe match --index", 0) == 0 && row.name != "epe match --index exact") approx = row.seconds;
    if (row.name == "epe weights (approximate match)") approx_w = row.seconds;
  }
  std::printf("recall@%d of %s: %.4f\n", o.k, r.approx.c_str(), r.recall);
  if (r.part_memory_bytes)
    std::printf("sharded exact match: search memory per part %s vs %s unsharded (%.2fx less); merged store %s\n",
                format_bytes(static_cast<double>(r.part_memory_bytes)).c_str(),
                format_bytes(static_cast<double>(r.whole_memory_bytes)).c_str(),
                static_cast<double>(r.whole_memory_bytes) / r.part_memory_bytes,
                r.sharded_equal ? "equal to the unsharded exact store" : "DIFFERS from the unsharded exact store");
  if (ref_knn > 0) {
    std::printf("ratio reference find_knn / epe exact match:              %.2fx\n", ref_knn / exact);
    std::printf("ratio reference filter+weights / epe weights:            %.0fx\n", ref_fw / weights);
    std::printf("ratio reference three scripts / epe approx match+weights: %.1fx\n",
                (ref_knn + ref_fw) / (approx + approx_w));
  }
  return 0;
}

int bench_layout_command(const Args& args) {
  LayoutBenchOptions o;
  CommonOptions c;
  OptionSet s("epe bench layout [--frames 800] [--height 526 --width 957]",
              "Label maps per second of the epe layout scan (decode, id and size checks, location counts) on\n"
              "rendered demo label maps, for a list of N/4 rows and one of N rows in one run; the peak memory after\n"
              "each shows that memory does not grow with the number of frames.");
  s.add("frames", &o.frames, "rows of the long list");
  s.add("distinct", &o.distinct, "distinct rendered frames the rows cycle through");
  s.add("height", &o.height, "frame height");
  s.add("width", &o.width, "frame width");
  s.add("grid", &o.grid, "location grid HxW");
  s.add("seed", &o.seed, "seed of the demo frames");
  s.add("work", &o.work, "folder for the frames (default: a temporary folder)");
  if (!parse_command(s, c, args)) return 0;
  o.threads = c.threads;
  std::printf("bench layout: label maps of %dx%d, grid %s, %d threads\n", o.height, o.width, o.grid.c_str(),
              threads());
  std::fflush(stdout);
  auto rows = bench_layout(o);
  std::printf("%10s %10s %12s %12s\n", "frames", "seconds", "maps/s", "peak RSS");
  for (const auto& r : rows)
    std::printf("%10lld %10.2f %12.1f %12s\n", static_cast<long long>(r.frames), r.seconds, r.maps_per_s,
                format_bytes(static_cast<double>(r.peak_rss_bytes)).c_str());
  std::printf("peak memory growth from %lld to %lld frames: %s\n", static_cast<long long>(rows[0].frames),
              static_cast<long long>(rows[1].frames),
              format_bytes(static_cast<double>(rows[1].peak_rss_bytes - rows[0].peak_rss_bytes)).c_str());
  return 0;
}

int bench_metrics_command(const Args& args) {
  MetricsBenchOptions o;
  CommonOptions c;
  bool no_fid = false;
  OptionSet s("epe bench metrics [--n 50000] [--dim 2048] [--pairing 100000]",
              "The heavy parts of epe metrics on random data, timed in one run: KID of n x n features of dimension d\n"
              "(100 subsets of 1000, double precision), FID of the same features, and sKVD's exact label-agreement\n"
              "nearest-neighbour search on m x m random 16x16 label grids.");
  s.add("n", &o.n, "features per set");
  s.add("dim", &o.dim, "feature dimension");
  s.add("subsets", &o.subsets, "KID subsets");
  s.add("subset-size", &o.subset_size, "KID subset size");
  s.add("pairing", &o.pairing, "label grids per side of the pairing row (0 = skip)");
  s.add("no-fid", &no_fid, "skip the FID row");
  s.add("seed", &o.seed, "seed");
  if (!parse_command(s, c, args)) return 0;
  o.fid = !no_fid;
  std::printf("bench metrics: %d threads\n", threads());
  std::fflush(stdout);
  for (const auto& r : bench_metrics(o)) std::printf("%-62s %9.2f s   %s\n", r.name.c_str(), r.seconds, r.result.c_str());
  return 0;
}

int bench_generator_command(const Args& args) {
  GeneratorBenchOptions o;
  CommonOptions c;
  double reference = 32.0;
  OptionSet s("epe bench generator [--preset paper] [--size 196] [--device cuda --precision bfloat16]",
              "One generator forward + backward on a size x size crop (after a warm-up pass), against the reference\n"
              "implementation's ~32 s for the paper configuration at 196x196 on this kind of machine (BASELINES.md).");
  s.add("preset", &o.preset, "paper | tiny");
  s.add("size", &o.size, "crop side");
  s.add("iterations", &o.iterations, "timed passes");
  s.add("device", &o.device, "cpu | cuda | cuda:N");
  s.add("precision", &o.precision, "float32 | bfloat16 | float16 (CUDA)");
  s.add("classes", &o.classes, "material maps: demo (a street scene's, one-hot) | uniform (every class 1/K)");
  s.add("dense", &o.dense, "class encoders on whole frames (as the reference) instead of class bounding boxes");
  s.add("reference-seconds", &reference, "the reference's seconds per pass (0 = no ratio)");
  if (!parse_command(s, c, args)) return 0;
  std::printf("bench generator: %s preset, %dx%d, device %s, %s, %d threads\n", o.preset.c_str(), o.size, o.size,
              o.device.c_str(), o.precision.c_str(), threads());
  std::fflush(stdout);
  const GeneratorBenchResult r = bench_generator(o);
  std::printf("parameters %lld; %d materials present; forward + backward %.2f s (%.3f steps/s); peak RSS %s\n",
              static_cast<long long>(r.parameters), r.classes_present, r.seconds_per_pass, r.steps_per_second,
              format_bytes(static_cast<double>(r.peak_rss_bytes)).c_str());
  if (reference > 0) std::printf("ratio reference / epe: %.2fx\n", reference / r.seconds_per_pass);
  return 0;
}

}  // namespace

int run_bench(const Args& args) {
  const char* usage =
      "Usage: epe bench <benchmark> [options]   (epe bench <benchmark> --help for its options)\n\n"
      "Benchmarks:\n  crops   crops/s of epe crops (random, grid) vs the reference's per-crop loop\n"
      "  match   epe match + epe weights vs the reference's find_knn/filter/compute_weights; recall\n"
      "  layout  label maps/s of the epe layout scan; memory at two list lengths\n"
      "  metrics KID/FID on 50K x 50K x 2048 features; sKVD label pairing 100K x 100K\n"
      "  generator  generator forward + backward vs the reference's 32 s (paper configuration, 196x196)\n";
  if (!args.empty() && (args[0] == "--help" || args[0] == "-h")) {
    std::printf("%s", usage);
    return 0;
  }
  EPE_CHECK(!args.empty(), "epe bench: name a benchmark (crops, match, layout, metrics, generator); epe bench --help lists them");
  if (args[0] == "generator") return bench_generator_command(Args(args.begin() + 1, args.end()));
  if (args[0] == "metrics") return bench_metrics_command(Args(args.begin() + 1, args.end()));
  if (args[0] == "layout") return bench_layout_command(Args(args.begin() + 1, args.end()));
  if (args[0] == "match") return bench_match_command(Args(args.begin() + 1, args.end()));
  EPE_CHECK(args[0] == "crops", "epe bench: unknown benchmark '", args[0], "' (crops, match, layout, metrics, generator)");
  return bench_crops_command(Args(args.begin() + 1, args.end()));
}

}  // namespace epe::app
