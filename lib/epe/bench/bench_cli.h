#pragma once
// The command-line face of `epe bench <benchmark>`: for each benchmark, its usage and help text,
// its options bound to its struct, the header line printed before it runs and the report after.
// apps/epe/cmd_bench.cpp runs any of them the same way.

#include <string>
#include <vector>

#include "epe/bench/crops_bench.h"
#include "epe/bench/layout_bench.h"
#include "epe/bench/match_bench.h"
#include "epe/bench/metrics_bench.h"
#include "epe/bench/train_bench.h"
#include "epe/core/options.h"

namespace epe {

struct BenchText {
  const char* usage;  // "epe bench crops [--frames N] ..."
  const char* about;  // the paragraph of --help
};

BenchText bench_text(const CropsBenchOptions&);
void add_options(OptionSet& s, CropsBenchOptions& o);
std::string format_header(const CropsBenchOptions& o);
std::string format_report(const CropsBenchOptions& o, const std::vector<CropsBenchRow>& rows);

BenchText bench_text(const MatchBenchOptions&);
void add_options(OptionSet& s, MatchBenchOptions& o);
std::string format_header(const MatchBenchOptions& o);
std::string format_report(const MatchBenchOptions& o, const MatchBenchResult& r);

BenchText bench_text(const LayoutBenchOptions&);
void add_options(OptionSet& s, LayoutBenchOptions& o);
std::string format_header(const LayoutBenchOptions& o);
std::string format_report(const LayoutBenchOptions& o, const std::vector<LayoutBenchRow>& rows);

BenchText bench_text(const MetricsBenchOptions&);
void add_options(OptionSet& s, MetricsBenchOptions& o);
std::string format_header(const MetricsBenchOptions& o);
std::string format_report(const MetricsBenchOptions& o, const std::vector<MetricsBenchRow>& rows);

BenchText bench_text(const GeneratorBenchOptions&);
void add_options(OptionSet& s, GeneratorBenchOptions& o);
std::string format_header(const GeneratorBenchOptions& o);
std::string format_report(const GeneratorBenchOptions& o, const GeneratorBenchResult& r);

}  // namespace epe
