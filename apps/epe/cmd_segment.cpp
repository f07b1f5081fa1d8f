#include <cstdio>

#include "command.h"
#include "epe/core/progress.h"
#include "epe/segment/segment.h"

namespace epe::app {

int run_segment(const Args& args) {
  SegmentOptions o;
  CommonOptions c;
  OptionSet s(
      "epe segment --list LIST --model MODEL.pt --out DIR [--base-size 720] [--crop 713] [--scales 1.0] [--flip]",
      "Robust label maps with a TorchScript segmentation model (e.g. MSeg exported as in the README) and\n"
      "MSeg's inference protocol: short side resized to round(scale x base), mean-colour padding, sliding\n"
      "windows with 2/3 overlap, softmax averaged (flip, scales), argmax. Writes DIR/labels/*.png (8-bit)\n"
      "and DIR/<list>.csv, the list with its robust-label column filled in.");
  add_options(s, o);
  if (!parse_command(s, c, args)) return 0;
  record_options(s, &o.command, &o.options_ini);
  Progress progress("segment", 0, "frames");
  const SegmentResult r = segment_list(o, &progress);
  progress.finish();
  std::fputs(format_summary(o, r).c_str(), stdout);
  return 0;
}

}  // namespace epe::app
