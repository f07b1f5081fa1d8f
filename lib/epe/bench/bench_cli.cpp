#include "epe/bench/bench_cli.h"

#include <cstdio>

#include "epe/core/error.h"
#include "epe/core/progress.h"
#include "epe/core/stage_options.h"
#include "epe/runtime/runtime.h"

namespace epe {

namespace {
std::string bytes(std::int64_t n) {
  return format_bytes(static_cast<double>(n));
}
}  // namespace

// ---------------------------------------------------------------- crops

BenchText bench_text(const CropsBenchOptions&) {
  return {"epe bench crops [--frames N] [--height H --width W] [--vgg WEIGHTS] [--device D]",
          "Crops per second of the crop stage on rendered demo frames, measured in one run: the reference's\n"
          "loop (one forward pass per random crop, emulated with our network), epe crops --mode random and\n"
          "--mode grid; their ratios; peak memory. --reference-crops-per-s is the reference implementation's\n"
          "own figure on this kind of machine (docs/BASELINES.md: 6.5 with 2 threads)."};
}

void add_options(OptionSet& s, CropsBenchOptions& o) {
  s.add("frames", &o.frames, "demo frames");
  s.add("height", &o.height, "frame height");
  s.add("width", &o.width, "frame width");
  s.add("crops-per-image", &o.crops_per_image, "random crops per frame");
  s.add("vgg", &o.vgg, "VGG-16 weights (default: random init; speed does not depend on them)");
  add_device_option(s, &o.device);
  s.add("precision", &o.precision, "float32 | float16 | bfloat16 (CUDA)");
  s.add("seed", &o.seed, "seed");
  s.add("reference-crops-per-s", &o.reference_crops_per_s,
        "the reference implementation's measured crops/s (0 = not shown)");
  s.add("no-reference-loop", &o.skip_reference_loop, "skip the reference-loop row").not_recorded();
  s.add("work", &o.work, "folder for frames and stores (default: a temporary folder)");
}

std::string format_header(const CropsBenchOptions& o) {
  return strprintf("bench crops: %d frames of %dx%d, %d crops/frame in random modes, device %s, %d threads\n", o.frames,
                   o.height, o.width, o.crops_per_image, o.device.c_str(), threads());
}

std::string format_report(const CropsBenchOptions& o, const std::vector<CropsBenchRow>& rows) {
  std::string s =
      strprintf("%-15s %8s %8s %10s %10s %10s\n", "mode", "frames", "crops", "seconds", "crops/s", "peak RSS");
  double loop = 0, random = 0, grid = 0;
  for (const auto& r : rows) {
    s += strprintf("%-15s %8lld %8lld %10.2f %10.1f %10s\n", r.name.c_str(), static_cast<long long>(r.frames),
                   static_cast<long long>(r.crops), r.seconds, r.crops_per_s, bytes(r.peak_rss_bytes).c_str());
    if (r.name == "reference-loop") loop = r.crops_per_s;
    if (r.name == "random") random = r.crops_per_s;
    if (r.name == "grid") grid = r.crops_per_s;
  }
  if (loop > 0) {
    s += strprintf("ratio grid / reference-loop:   %.1fx\n", grid / loop);
    s += strprintf("ratio random / reference-loop: %.2fx\n", random / loop);
  }
  s += strprintf("ratio grid / random:           %.1fx\n", grid / random);
  const double ref = o.reference_crops_per_s;
  if (ref > 0)
    s += strprintf("vs the reference implementation's %.1f crops/s: grid %.1fx, random %.2fx\n", ref, grid / ref,
                   random / ref);
  return s;
}

// ---------------------------------------------------------------- match

BenchText bench_text(const MatchBenchOptions&) {
  return {"epe bench match [--n 100000] [-k 10] [--approx SPEC --nprobe P] [--no-exact]",
          "epe match + epe weights end to end on N x N clustered random unit vectors (d = 512) stored as crop\n"
          "stores, against the reference's way: find_knn.py emulated (FAISS IndexFlatL2 in memory) and\n"
          "filter.py + compute_weights.py at their measured rates (docs/BASELINES.md); an approximate index with\n"
          "its recall@k against exact search on a sample; times and peak memory."};
}

void add_options(OptionSet& s, MatchBenchOptions& o) {
  s.add("n", &o.n, "source and target crops");
  s.add("k,k", &o.k, "neighbours");
  s.add("clusters", &o.clusters, "cluster centres of the features (0 = uniform random)");
  s.add("approx", &o.approx, "--index of the approximate row (default ivf: 4 sqrt(N) lists)");
  s.add("nprobe", &o.nprobe, "IVF probes of the approximate row");
  s.add("recall-sample", &o.recall_sample, "source crops on which recall@k is measured");
  s.add("no-exact", &o.skip_exact, "skip the exact rows (for very large N)");
  s.add_text(
      "grid", [&o] { return cat(o.grid_src, "x", o.grid_dst); },
      [&o](const std::string& v) {
        EPE_CHECK(std::sscanf(v.c_str(), "%dx%d", &o.grid_src, &o.grid_dst) == 2, "option --grid: '", v,
                  "' is not MxN (e.g. 2x4)");
      },
      "source x target shards of the sharded row (e.g. 2x4)");
  s.add("work", &o.work, "folder for the stores (default: a temporary folder)");
  s.add("seed", &o.seed, "seed");
}

std::string format_header(const MatchBenchOptions& o) {
  return strprintf("bench match: %lld x %lld crops, d = 512, k = %d, %d clusters, %d threads\n",
                   static_cast<long long>(o.n), static_cast<long long>(o.n), o.k, o.clusters, threads());
}

std::string format_report(const MatchBenchOptions& o, const MatchBenchResult& r) {
  std::string s = strprintf("%-44s %10s %10s %10s  %s\n", "step", "seconds", "pairs", "peak RSS", "");
  double ref_knn = 0, exact = 0, weights = 0, ref_fw = 0, approx = 0, approx_w = 0;
  for (const auto& row : r.rows) {
    s += strprintf("%-44s %10.2f %10lld %10s  %s\n", row.name.c_str(), row.seconds, static_cast<long long>(row.pairs),
                   row.peak_rss_bytes ? bytes(row.peak_rss_bytes).c_str() : "-", row.note.c_str());
    if (row.name.rfind("reference find_knn", 0) == 0) ref_knn = row.seconds;
    if (row.name == "epe match --index exact") exact = row.seconds;
    if (row.name == "epe weights") weights = row.seconds;
    if (row.name.rfind("reference filter", 0) == 0) ref_fw = row.seconds;
    if (row.name.rfind("epe match --index", 0) == 0 && row.name != "epe match --index exact") approx = row.seconds;
    if (row.name == "epe weights (approximate match)") approx_w = row.seconds;
  }
  s += strprintf("recall@%d of %s: %.4f\n", o.k, r.approx.c_str(), r.recall);
  if (r.part_memory_bytes)
    s += strprintf("sharded exact match: search memory per part %s vs %s unsharded (%.2fx less); merged store %s\n",
                   bytes(r.part_memory_bytes).c_str(), bytes(r.whole_memory_bytes).c_str(),
                   static_cast<double>(r.whole_memory_bytes) / r.part_memory_bytes,
                   r.sharded_equal ? "equal to the unsharded exact store" : "DIFFERS from the unsharded exact store");
  if (ref_knn > 0) {
    s += strprintf("ratio reference find_knn / epe exact match:              %.2fx\n", ref_knn / exact);
    s += strprintf("ratio reference filter+weights / epe weights:            %.0fx\n", ref_fw / weights);
    s += strprintf("ratio reference three scripts / epe approx match+weights: %.1fx\n",
                   (ref_knn + ref_fw) / (approx + approx_w));
  }
  return s;
}

// ---------------------------------------------------------------- layout

BenchText bench_text(const LayoutBenchOptions&) {
  return {"epe bench layout [--frames 800] [--height 526 --width 957]",
          "Label maps per second of the epe layout scan (decode, id and size checks, location counts) on\n"
          "rendered demo label maps, for a list of N/4 rows and one of N rows in one run; the peak memory after\n"
          "each shows that memory does not grow with the number of frames."};
}

void add_options(OptionSet& s, LayoutBenchOptions& o) {
  s.add("frames", &o.frames, "rows of the long list");
  s.add("distinct", &o.distinct, "distinct rendered frames the rows cycle through");
  s.add("height", &o.height, "frame height");
  s.add("width", &o.width, "frame width");
  s.add("grid", &o.grid, "location grid HxW");
  s.add("seed", &o.seed, "seed of the demo frames");
  s.add("work", &o.work, "folder for the frames (default: a temporary folder)");
}

std::string format_header(const LayoutBenchOptions& o) {
  return strprintf("bench layout: label maps of %dx%d, grid %s, %d threads\n", o.height, o.width, o.grid.c_str(),
                   threads());
}

std::string format_report(const LayoutBenchOptions&, const std::vector<LayoutBenchRow>& rows) {
  std::string s = strprintf("%10s %10s %12s %12s\n", "frames", "seconds", "maps/s", "peak RSS");
  for (const auto& r : rows)
    s += strprintf("%10lld %10.2f %12.1f %12s\n", static_cast<long long>(r.frames), r.seconds, r.maps_per_s,
                   bytes(r.peak_rss_bytes).c_str());
  return s + strprintf("peak memory growth from %lld to %lld frames: %s\n", static_cast<long long>(rows[0].frames),
                       static_cast<long long>(rows[1].frames),
                       bytes(rows[1].peak_rss_bytes - rows[0].peak_rss_bytes).c_str());
}

// ---------------------------------------------------------------- metrics

BenchText bench_text(const MetricsBenchOptions&) {
  return {"epe bench metrics [--n 50000] [--dim 2048] [--pairing 100000]",
          "The heavy parts of epe metrics on random data, timed in one run: KID of n x n features of dimension d\n"
          "(100 subsets of 1000, double precision), FID of the same features, and sKVD's exact label-agreement\n"
          "nearest-neighbour search on m x m random 16x16 label grids."};
}

void add_options(OptionSet& s, MetricsBenchOptions& o) {
  s.add("n", &o.n, "features per set");
  s.add("dim", &o.dim, "feature dimension");
  s.add("subsets", &o.subsets, "KID subsets");
  s.add("subset-size", &o.subset_size, "KID subset size");
  s.add("pairing", &o.pairing, "label grids per side of the pairing row (0 = skip)");
  s.add("no-fid", &o.skip_fid, "skip the FID row");
  s.add("seed", &o.seed, "seed");
}

std::string format_header(const MetricsBenchOptions&) {
  return strprintf("bench metrics: %d threads\n", threads());
}

std::string format_report(const MetricsBenchOptions&, const std::vector<MetricsBenchRow>& rows) {
  std::string s;
  for (const auto& r : rows) s += strprintf("%-62s %9.2f s   %s\n", r.name.c_str(), r.seconds, r.result.c_str());
  return s;
}

// ---------------------------------------------------------------- generator

BenchText bench_text(const GeneratorBenchOptions&) {
  return {"epe bench generator [--preset paper] [--size 196] [--device cuda --precision bfloat16]",
          "One generator forward + backward on a size x size crop (after a warm-up pass), against the reference\n"
          "implementation's ~32 s for the paper configuration at 196x196 on this kind of machine "
          "(docs/BASELINES.md)."};
}

void add_options(OptionSet& s, GeneratorBenchOptions& o) {
  s.add("preset", &o.preset, "network configuration", nn::network_presets());
  s.add("size", &o.size, "crop side");
  s.add("iterations", &o.iterations, "timed passes");
  add_device_option(s, &o.device);
  s.add("precision", &o.precision, "float32 | bfloat16 | float16 (CUDA)");
  s.add("classes", &o.classes, "material maps: demo = a street scene's, one-hot; uniform = every class 1/K",
        bench_materials());
  s.add("dense", &o.dense, "class encoders on whole frames (as the reference) instead of class bounding boxes");
  s.add("reference-seconds", &o.reference_seconds, "the reference's seconds per pass (0 = no ratio)");
}

std::string format_header(const GeneratorBenchOptions& o) {
  return strprintf("bench generator: %s preset, %dx%d, device %s, %s, %d threads\n",
                   choice_name(nn::network_presets(), o.preset).c_str(), o.size, o.size, o.device.c_str(),
                   o.precision.c_str(), threads());
}

std::string format_report(const GeneratorBenchOptions& o, const GeneratorBenchResult& r) {
  std::string s =
      strprintf("parameters %lld; %d materials present; forward + backward %.2f s (%.3f steps/s); peak RSS %s\n",
                static_cast<long long>(r.parameters), r.classes_present, r.seconds_per_pass, r.steps_per_second,
                bytes(r.peak_rss_bytes).c_str());
  if (o.reference_seconds > 0)
    s += strprintf("ratio reference / epe: %.2fx\n", o.reference_seconds / r.seconds_per_pass);
  return s;
}

}  // namespace epe
