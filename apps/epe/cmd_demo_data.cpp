#include <cstdio>

#include "command.h"
#include "epe/core/progress.h"
#include "epe/core/stage_options.h"
#include "epe/demo/demo_data.h"
#include "epe/demo/demo_segmenter.h"

namespace epe::app {

int run_demo_data(const Args& args) {
  DemoOptions o;
  CommonOptions c;
  OptionSet s("epe demo-data --out DIR [--images N] [--height H --width W] [--seed S] [--synthetic-texture]",
              "Renders two procedural street-scene datasets: 'synthetic' (flat-shaded from G-buffers, exact GT and\n"
              "robust labels) and 'real' (photographic degradations, robust labels), whose layouts differ on\n"
              "purpose (see data/README.md). Same seed => byte-identical files.");
  add_options(s, o);
  if (!parse_command(s, c, args)) return 0;
  o.threads = c.threads;
  // Only what decides the content is recorded, so that two runs give identical folders.
  o.record = "# epe demo-data: the options these frames were rendered with (usable as --config)\n" + s.resolved_ini();
  o.check();
  Progress progress("demo-data", o.images, "frame pairs");
  DemoResult r = make_demo_data(o, &progress);
  progress.finish();
  std::printf("demo-data: %d synthetic + %d real frames of %dx%d (seed %llu) in %.1f s\n", r.images_per_set,
              r.images_per_set, o.height, o.width, static_cast<unsigned long long>(o.seed), r.seconds);
  std::printf("  synthetic list: %s\n  real list:      %s\n", r.synthetic_list.c_str(), r.real_list.c_str());
  return 0;
}

int run_demo_segmenter(const Args& args) {
  std::string out;
  bool force = false;
  SegmentProtocol p;
  CommonOptions c;
  OptionSet s("epe demo-segmenter --out MODEL.pt",
              "Writes a small TorchScript model (built in C++) that labels the demo data by colour: each pixel gets\n"
              "the universal class whose mean demo colour is nearest. A DEMO model for running epe segment end to\n"
              "end on the demo data; it is not MSeg and is useless on real images.");
  add_out_option(s, &out, "model file to write");
  s.add("mean", &p.mean, "input normalisation mean the model expects (RGB, 0..255)");
  s.add("std", &p.std, "input normalisation std the model expects");
  add_force_option(s, &force, "overwrite OUT");
  if (!parse_command(s, c, args)) return 0;
  const DemoSegmenterResult r = make_demo_segmenter(out, p, force);
  std::printf("demo-segmenter: %s (DEMO model: nearest mean colour of %d demo classes, %d outputs)\n", out.c_str(),
              r.classes_seen, kUniversalClasses);
  return 0;
}

}  // namespace epe::app
