#include <cstdio>

#include "command.h"
#include "epe/core/error.h"
#include "epe/core/progress.h"
#include "epe/metrics/color_transfer.h"
#include "epe/metrics/lpips_pairs.h"

namespace epe::app {

int run_lpips(const Args& args) {
  LpipsPairsOptions o;
  CommonOptions c;
  OptionSet s("epe lpips A B [--vgg vgg16.pt] [--out pairs.csv]",
              "LPIPS (VGG, v0.1) between two images, or between two lists/folders row by row. Uses the shipped v0.1\n"
              "linear weights and torchvision's ImageNet VGG-16 weights given with --vgg.");
  add_options(s, o);
  if (!parse_command(s, c, args)) return 0;
  Progress p("lpips", 0, "pairs");
  const LpipsPairsResult r = lpips_pairs(o, &p);
  p.finish();
  std::fputs(format_summary(o, r).c_str(), stdout);
  return 0;
}

int run_baseline(const Args& args) {
  const char* usage =
      "Usage: epe baseline <method> [options]   (epe baseline <method> --help)\n\n"
      "Methods:\n  color-transfer   Reinhard colour transfer: each frame's Lab mean/std matched to a reference set\n";
  if (!args.empty() && (args[0] == "--help" || args[0] == "-h")) {
    std::printf("%s", usage);
    return 0;
  }
  EPE_CHECK(!args.empty() && args[0] == "color-transfer",
            "epe baseline: name a method (color-transfer); epe baseline --help lists them");
  ColorTransferOptions o;
  CommonOptions c;
  OptionSet s("epe baseline color-transfer --list SYN.csv --reference REAL.csv --out DIR",
              "Reinhard et al. 2001 colour transfer, a baseline for metrics tables: every frame of --list gets the\n"
              "per-channel mean and standard deviation (CIE Lab) of all pixels of the --reference set. Writes\n"
              "DIR/images/NNNNNN.png and DIR/<name>.csv (the input rows with the new image; labels and G-buffers\n"
              "kept, since the layout does not change).");
  add_options(s, o);
  if (!parse_command(s, c, Args(args.begin() + 1, args.end()))) return 0;
  o.threads = c.threads;
  Progress p("color-transfer", 0, "frames");
  const ColorTransferResult r = color_transfer(o, &p);
  p.finish();
  std::fputs(format_summary(o, r).c_str(), stdout);
  return 0;
}

}  // namespace epe::app
