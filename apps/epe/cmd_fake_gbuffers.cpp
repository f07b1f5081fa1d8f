#include <cstdio>

#include "command.h"
#include "epe/core/progress.h"
#include "epe/train/fake_gbuffers.h"

namespace epe::app {

int run_fake_gbuffers(const Args& args) {
  FakeGBufferOptions o;
  CommonOptions c;
  OptionSet s("epe fake-gbuffers --list SYN.csv --out DIR [--vgg W] [--channels 32]",
              "Stand-in G-buffers for datasets without them, as the reference's demo makes them: VGG-16 relu2_2\n"
              "features (no padding, the dataset's own statistics), averaged over groups of channels down to\n"
              "--channels, upsampled bicubically to the frame. They carry no\n"
              "rendering information; channel names start with 'fake-vgg-relu2_2' so every later stage can tell.\n"
              "Writes DIR/gbuffers/NNNNNN.h5 and DIR/<name>.csv (the input rows with the new G-buffers).");
  add_options(s, o);
  if (!parse_command(s, c, args)) return 0;
  Progress p("fake-gbuffers", 0, "frames");
  const FakeGBufferResult r = make_fake_gbuffers(o, &p);
  p.finish();
  std::fputs(format_summary(o, r).c_str(), stdout);
  return 0;
}

}  // namespace epe::app
