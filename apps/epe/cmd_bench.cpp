#include <cstdio>

#include "command.h"
#include "epe/bench/bench_cli.h"
#include "epe/core/error.h"

namespace epe::app {

namespace {

// One benchmark as a command: parse its options, print its header, run it, print its report.
template <class Options, class Result>
int bench_command(const Args& args, Result (*run)(const Options&)) {
  Options o;
  CommonOptions c;
  const BenchText text = bench_text(o);
  OptionSet s(text.usage, text.about);
  add_options(s, o);
  if (!parse_command(s, c, args)) return 0;
  std::fputs(format_header(o).c_str(), stdout);
  std::fflush(stdout);
  std::fputs(format_report(o, run(o)).c_str(), stdout);
  return 0;
}

struct Benchmark {
  const char* name;
  const char* summary;
  int (*run)(const Args& args);
};
const Benchmark kBenchmarks[] = {
    {"crops", "crops/s of epe crops (random, grid) vs the reference's per-crop loop",
     [](const Args& a) { return bench_command(a, bench_crops); }},
    {"match", "epe match + epe weights vs the reference's find_knn/filter/compute_weights; recall",
     [](const Args& a) { return bench_command(a, bench_match); }},
    {"layout", "label maps/s of the epe layout scan; memory at two list lengths",
     [](const Args& a) { return bench_command(a, bench_layout); }},
    {"metrics", "KID/FID on 50K x 50K x 2048 features; sKVD label pairing 100K x 100K",
     [](const Args& a) { return bench_command(a, bench_metrics); }},
    {"generator", "generator forward + backward vs the reference's 32 s (paper configuration, 196x196)",
     [](const Args& a) { return bench_command(a, bench_generator); }},
};

}  // namespace

int run_bench(const Args& args) {
  if (args.empty() || args[0] == "--help" || args[0] == "-h") {
    std::printf(
        "Usage: epe bench <benchmark> [options]   (epe bench <benchmark> --help for its options)\n\n"
        "Benchmarks:\n");
    for (const Benchmark& b : kBenchmarks) std::printf("  %-10s %s\n", b.name, b.summary);
    EPE_CHECK(!args.empty(), "epe bench: name a benchmark; epe bench --help lists them");
    return 0;
  }
  for (const Benchmark& b : kBenchmarks)
    if (args[0] == b.name) return b.run(Args(args.begin() + 1, args.end()));
  throw UserError(cat("epe bench: unknown benchmark '", args[0], "' (epe bench --help lists them)"));
}

}  // namespace epe::app
