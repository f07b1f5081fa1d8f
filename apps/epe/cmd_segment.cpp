#include <cstdio>

#include "command.h"
#include "epe/core/progress.h"
#include "epe/segment/segment.h"

namespace epe::app {

namespace {
void add_protocol(OptionSet& s, SegmentProtocol& p) {
  s.add("base-size", &p.base_size, "short side of the frame at scale 1");
  s.add("crop", &p.crop, "sliding-window side (the model's input size)");
  s.add("scales", &p.scales, "scales whose probabilities are averaged, e.g. 0.5,1.0,1.5");
  s.add("flip", &p.flip, "also run each window flipped horizontally and average");
  s.add("mean", &p.mean, "input normalisation mean, RGB in 0..255 (MSeg: 255 x ImageNet)");
  s.add("std", &p.std, "input normalisation std, RGB in 0..255");
  s.add("classes", &p.classes, "model output channels (194 = MSeg universal)");
  s.add("batch", &p.batch, "windows per forward pass").not_recorded();
  s.add("device", &p.device, "cpu | cuda | cuda:N").not_recorded();
}
}  // namespace

int run_segment(const Args& args) {
  SegmentOptions o;
  CommonOptions c;
  OptionSet s(
      "epe segment --list LIST --model MODEL.pt --out DIR [--base-size 720] [--crop 713] [--scales 1.0] [--flip]",
      "Robust label maps with a TorchScript segmentation model (e.g. MSeg exported as in the README) and\n"
      "MSeg's inference protocol: short side resized to round(scale x base), mean-colour padding, sliding\n"
      "windows with 2/3 overlap, softmax averaged (flip, scales), argmax. Writes DIR/labels/*.png (8-bit)\n"
      "and DIR/<list>.csv, the list with its robust-label column filled in.");
  s.add("list,l", &o.list, "file list (synthetic, real, or one image path per line)").required();
  s.add("model,m", &o.model, "TorchScript model").required();
  s.add("out,o", &o.out, "output folder").required().not_recorded();
  add_protocol(s, o.protocol);
  std::string shard;
  s.add("shard", &shard,
        "I/N: label only part I (0-based) of N contiguous parts of the list into DIR (shared by the shards); "
        "epe merge segment writes the list; auto: from the Slurm array task")
      .not_recorded();
  s.add("resume", &o.resume, "keep the label maps already in DIR/labels").not_recorded();
  s.add("force", &o.force, "recompute into an existing DIR").not_recorded();
  if (!parse_command(s, c, args)) return 0;
  record_options(s, &o.command, &o.options_ini);
  o.shard = parse_shard(shard);
  o.check();
  Progress progress("segment", 0, "frames");
  SegmentResult r = segment_list(o, &progress);
  progress.finish();
  std::printf("segment: %lld frames labelled", static_cast<long long>(r.frames));
  if (r.reused) std::printf(" (%lld kept from an earlier run)", static_cast<long long>(r.reused));
  std::printf(" in %s, %.2f frames/s\n  labels: %s\n", format_duration(r.seconds).c_str(),
              r.seconds > 0 ? r.frames / r.seconds : 0.0, r.labels_dir.c_str());
  if (o.shard.active())
    std::printf("  shard %s (list rows [%lld, %lld))%s: %s\n", o.shard.label().c_str(),
                static_cast<long long>(r.row_begin), static_cast<long long>(r.row_end),
                r.already_complete ? " was already complete" : " complete", r.shard_marker.c_str());
  else
    std::printf("  list:   %s\n", r.list_out.c_str());
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
  s.add("out,o", &out, "model file to write").required();
  s.add("mean", &p.mean, "input normalisation mean the model expects (RGB, 0..255)");
  s.add("std", &p.std, "input normalisation std the model expects");
  s.add("force", &force, "overwrite OUT");
  if (!parse_command(s, c, args)) return 0;
  DemoSegmenterResult r = make_demo_segmenter(out, p, force);
  std::printf("demo-segmenter: %s (DEMO model: nearest mean colour of %d demo classes, 194 outputs)\n", out.c_str(),
              r.classes_seen);
  return 0;
}

}  // namespace epe::app
