#include <cstdio>

#include "command.h"
#include "epe/core/progress.h"
#include "epe/metrics/metrics.h"

namespace epe::app {

int run_metrics(const Args& args) {
  MetricsOptions o;
  CommonOptions c;
  OptionSet s(
      "epe metrics --real R.csv --fake F1.csv [--fake F2.csv ...] [--names a,b] --metrics fid,kid,kvd,skvd\n"
      "            --out DIR [--inception M.pt] [--vgg vgg16.pt] [--model SEG.pt] [--cache DIR]",
      "Realism metrics of fake sets (input frames, baselines, enhanced frames) against a real set: FID and KID\n"
      "on Inception features, KVD (KID on VGG-16 features), sKVD and cKVD (KVD over crop pairs with matching\n"
      "layouts, from robust labels; cKVD per class group; FeaMGAN's protocol by default), precision/recall/\n"
      "density/coverage, and semantic consistency (a segmenter's labels of each fake set against its input\n"
      "frames': mIoU). Sets are file lists or folders of images. Writes DIR/metrics.json and DIR/metrics.md\n"
      "(with every number's protocol) and prints the table; every later set is compared with the first.");
  add_options(s, o);
  if (!parse_command(s, c, args)) return 0;
  o.command = command_line();
  o.extractor.threads = c.threads;
  Progress p("metrics", 0, "items");
  if (o.shard.active()) {
    const MetricsShardResult r = extract_metric_shards(o, &p);
    p.finish();
    std::fputs(format_summary(o, r).c_str(), stdout);
  } else {
    const MetricsResult r = run_metrics(o, &p);
    p.finish();
    std::fputs(format_summary(o, r).c_str(), stdout);
  }
  return 0;
}

}  // namespace epe::app
