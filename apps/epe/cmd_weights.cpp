#include <cstdio>

#include "command.h"
#include "epe/match/show.h"
#include "epe/match/weights.h"

namespace epe::app {

int run_weights(const Args& args) {
  WeightsOptions o;
  CommonOptions c;
  OptionSet s("epe weights MATCH.h5 [--density-png density.png]",
              "Sampling weights of the kept pairs (the reference's compute_weights.py rule): d = number of pairs\n"
              "covering each source pixel, weight = max(d) / mean(d over the pair's box), per frame size.\n"
              "The match store is rewritten with /pairs/weight and /density (a copy renamed into place).");
  add_options(s, o);
  if (!parse_command(s, c, args)) return 0;
  std::fputs(format_summary(o, compute_weights(o)).c_str(), stdout);
  return 0;
}

int run_show_matches(const Args& args) {
  ShowMatchesOptions o;
  CommonOptions c;
  OptionSet s("epe show-matches MATCH.h5 --out grid.png [--bands 0.5,0.6,0.7,0.8,0.9,1.0] [--per-band 8]",
              "Draws matched pairs side by side (source | target), one row per cosine band, best band on top.");
  add_options(s, o);
  if (!parse_command(s, c, args)) return 0;
  std::fputs(format_summary(o, show_matches(o)).c_str(), stdout);
  return 0;
}

}  // namespace epe::app
