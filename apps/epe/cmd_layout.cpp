#include <cstdio>

#include "command.h"
#include "epe/core/error.h"
#include "epe/core/progress.h"
#include "epe/layout/layout.h"

namespace epe::app {

int run_layout(const Args& args) {
  LayoutOptions o;
  CommonOptions c;
  std::string names;
  OptionSet s("epe layout --list A.csv --list B.csv --out DIR [--names A,B] [--labels robust|gt] [--grid 64x128]\n"
              "           [--matches MATCH.h5 [--pairs 2000]]",
              "Layout analysis of two datasets: per class its pixel share, the share of frames containing it and\n"
              "its location map P(x | class) on a grid over normalised image coordinates; per class the total\n"
              "variation and Jensen-Shannon divergence between the datasets' maps; an overall mismatch weighted by\n"
              "pixel share. Every label map is read once (memory does not depend on the number of frames).\n"
              "With --matches (a match store of A's crops against B's), crop pairs drawn independently, from the\n"
              "match store uniformly and with its weights are compared by label agreement.\n"
              "Writes DIR/<name>.h5 (layout stores), comparison.json, report.md and PNG pictures.");
  s.add("list", &o.lists, "file list of a dataset (give it twice: A, then B)").required();
  s.add("names", &names, "names of the two datasets, comma separated (default: the lists' file names)");
  s.add("out,o", &o.out, "output folder").required().not_recorded();
  s.add("labels", &o.labels, "robust (MSeg ids, 2nd column) | gt (game ids, 4th column of synthetic lists)");
  s.add("grid", &o.grid, "location grid HxW");
  s.add("top", &o.top, "classes drawn in the report (largest mismatch first)");
  s.add("matches", &o.matches, "match store (A's crops against B's) for the sampling analysis");
  s.add("pairs", &o.pairs, "crop pairs per sampling strategy");
  s.add("sample-grid", &o.sample_grid, "positions per crop side compared in the sampling analysis");
  s.add("seed", &o.seed, "seed of the sampled pairs");
  s.add("force", &o.force, "replace an existing output folder").not_recorded();
  if (!parse_command(s, c, args)) return 0;
  record_options(s, &o.command, &o.options_ini);
  if (!names.empty()) o.names = split_list(names);
  o.threads = c.threads;
  o.check();
  Progress progress("layout", 0, "label maps");
  LayoutResult r = run_layout(o, &progress);
  progress.finish();
  std::printf("layout: %lld + %lld label maps (%s, grid %dx%d), %.0f maps/s, in %s\n",
              static_cast<long long>(r.a.frames), static_cast<long long>(r.b.frames), o.labels.c_str(), r.a.grid_h,
              r.a.grid_w, r.frames_per_second, format_duration(r.seconds).c_str());
  std::printf("  overall mismatch: TV %.4f, JS %.4f (0 = same layout, 1 = disjoint)\n", r.comparison.overall_tv,
              r.comparison.overall_js);
  std::printf("  %-24s %9s %9s %7s %7s %9s\n", "class (largest mismatch)", r.a.name.c_str(), r.b.name.c_str(), "TV",
              "JS", "mismatch");
  for (std::size_t i = 0; i < r.comparison.classes.size() && i < 10; ++i) {
    const auto& k = r.comparison.classes[i];
    std::printf("  %-24s %8.2f%% %8.2f%% %7.3f %7.3f %9.4f\n", k.name.substr(0, 24).c_str(), 100 * k.share_a,
                100 * k.share_b, k.tv, k.js, k.mismatch);
  }
  if (!r.sampling.empty()) {
    std::printf("  sampling analysis (%s):\n%s", o.matches.c_str(), format_sampling_table(r.sampling, false).c_str());
  }
  std::printf("  report: %s/report.md (%zu files)\n", o.out.c_str(), r.files.size());
  return 0;
}

}  // namespace epe::app
