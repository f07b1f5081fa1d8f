#include <cstdio>

#include "command.h"
#include "epe/core/progress.h"
#include "epe/demo/demo_data.h"

namespace epe::app {

int run_demo_data(const Args& args) {
  DemoOptions o;
  CommonOptions c;
  OptionSet s("epe demo-data --out DIR [--images N] [--height H --width W] [--seed S] [--synthetic-texture]",
              "Renders two procedural street-scene datasets: 'synthetic' (flat-shaded from G-buffers, exact GT and\n"
              "robust labels) and 'real' (photographic degradations, robust labels), whose layouts differ on\n"
              "purpose (see data/README.md). Same seed => byte-identical files.");
  s.add("out,o", &o.out, "output folder").required().not_recorded();
  s.add("images,n", &o.images, "frames per set");
  s.add("height", &o.height, "frame height");
  s.add("width", &o.width, "frame width");
  s.add("seed", &o.seed, "random seed");
  s.add("synthetic-texture", &o.synthetic_texture,
        "texture the synthetic surfaces (albedo G-buffer too) with the real set's texture statistics");
  s.add("force", &o.force, "replace an existing output folder").not_recorded();
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

}  // namespace epe::app
