#include <cstdio>

#include "command.h"
#include "epe/core/progress.h"
#include "epe/crops/crops.h"

namespace epe::app {

int run_crops(const Args& args) {
  CropsOptions o;
  CommonOptions c;
  OptionSet s("epe crops --list LIST --out CROPS.h5 [--mode random|grid] [--vgg WEIGHTS] ...",
              "Embeds image crops with VGG-16 (valid padding, relu5_3: one 512-vector per 196x196 crop) into a\n"
              "crop store. random: --crops-per-image random crops per frame (the reference's collect_crops.py).\n"
              "grid: one pass per frame gives every crop at (16i, 16j) exactly, ~70x cheaper per crop.\n"
              "Without --vgg the network is randomly initialised (a warning; recorded in the store).\n"
              "An interrupted run keeps CROPS.h5.partial; --resume continues it from its last complete frame.");
  add_options(s, o);
  if (!parse_command(s, c, args)) return 0;
  record_options(s, &o.command, &o.options_ini);
  Progress progress("crops", 0, "frames");
  const CropsResult r = compute_crops(o, &progress);
  progress.finish();
  std::fputs(format_summary(o, r).c_str(), stdout);
  return 0;
}

}  // namespace epe::app
