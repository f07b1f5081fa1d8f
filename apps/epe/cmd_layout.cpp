#include <cstdio>

#include "command.h"
#include "epe/core/progress.h"
#include "epe/layout/layout.h"

namespace epe::app {

int run_layout(const Args& args) {
  LayoutOptions o;
  CommonOptions c;
  OptionSet s(
      "epe layout --list A.csv --list B.csv --out DIR [--names A,B] [--labels robust|gt] [--grid 64x128]\n"
      "           [--matches MATCH.h5 [--pairs 2000]]",
      "Layout analysis of two datasets: per class its pixel share, the share of frames containing it and\n"
      "its location map P(x | class) on a grid over normalised image coordinates; per class the total\n"
      "variation and Jensen-Shannon divergence between the datasets' maps; an overall mismatch weighted by\n"
      "pixel share. Every label map is read once (memory does not depend on the number of frames).\n"
      "With --matches (a match store of A's crops against B's), crop pairs drawn independently, from the\n"
      "match store uniformly and with its weights are compared by label agreement.\n"
      "Writes DIR/<name>.h5 (layout stores), comparison.json, report.md and PNG pictures.");
  add_options(s, o);
  if (!parse_command(s, c, args)) return 0;
  record_options(s, &o.command, &o.options_ini);
  o.threads = c.threads;
  Progress progress("layout", 0, "label maps");
  const LayoutResult r = run_layout(o, &progress);
  progress.finish();
  std::fputs(format_summary(o, r).c_str(), stdout);
  return 0;
}

}  // namespace epe::app
