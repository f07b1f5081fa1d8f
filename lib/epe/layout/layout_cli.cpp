// The command-line face of `epe layout`: its options bound to LayoutOptions, and its summary.

#include <cstdio>

#include "epe/core/progress.h"
#include "epe/core/stage_options.h"
#include "epe/layout/layout.h"

namespace epe {

void add_options(OptionSet& s, LayoutOptions& o) {
  s.add("list", &o.lists, "file list of a dataset (give it twice: A, then B)").required();
  s.add_text(
      "names", [&o] { return join(o.names, ","); }, [&o](const std::string& v) { o.names = split_list(v); },
      "names of the two datasets, comma separated (default: the lists' file names)");
  add_out_option(s, &o.out, "output folder");
  s.add("labels", &o.labels, "robust: MSeg ids, 2nd column; gt: game ids, 4th column of synthetic lists",
        label_kinds());
  s.add("grid", &o.grid, "location grid HxW");
  s.add("top", &o.top, "classes drawn in the report (largest mismatch first)");
  s.add("matches", &o.matches, "match store (A's crops against B's) for the sampling analysis");
  s.add("pairs", &o.pairs, "crop pairs per sampling strategy");
  s.add("sample-grid", &o.sample_grid, "positions per crop side compared in the sampling analysis");
  s.add("seed", &o.seed, "seed of the sampled pairs");
  add_force_option(s, &o.force, "replace an existing output folder");
}

std::string format_summary(const LayoutOptions& o, const LayoutResult& r) {
  std::string s = strprintf("layout: %lld + %lld label maps (%s, grid %dx%d), %.0f maps/s, in %s\n",
                            static_cast<long long>(r.a.frames), static_cast<long long>(r.b.frames), to_string(o.labels),
                            r.a.grid_h, r.a.grid_w, r.frames_per_second, format_duration(r.seconds).c_str());
  s += strprintf("  overall mismatch: TV %.4f, JS %.4f (0 = same layout, 1 = disjoint)\n", r.comparison.overall_tv,
                 r.comparison.overall_js);
  s += strprintf("  %-24s %9s %9s %7s %7s %9s\n", "class (largest mismatch)", r.a.name.c_str(), r.b.name.c_str(), "TV",
                 "JS", "mismatch");
  for (std::size_t i = 0; i < r.comparison.classes.size() && i < 10; ++i) {
    const auto& k = r.comparison.classes[i];
    s += strprintf("  %-24s %8.2f%% %8.2f%% %7.3f %7.3f %9.4f\n", k.name.substr(0, 24).c_str(), 100 * k.share_a,
                   100 * k.share_b, k.tv, k.js, k.mismatch);
  }
  if (!r.sampling.empty())
    s += cat("  sampling analysis (", o.matches, "):\n", format_sampling_table(r.sampling, false));
  s += cat("  report: ", o.out, "/report.md (", r.files.size(), " files)\n");
  return s;
}

}  // namespace epe
