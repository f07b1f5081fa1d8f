// The command-line face of `epe segment`: its options (and the protocol's, which `epe metrics`
// binds again under --seg-*) bound to the stage structs, and its summary.

#include <cstdio>

#include "epe/core/progress.h"
#include "epe/core/stage_options.h"
#include "epe/segment/segment.h"

namespace epe {

void add_options(OptionSet& s, SegmentProtocol& p, const std::string& prefix) {
  // Under a prefix the help says which `epe segment` option it mirrors.
  const auto help = [&](const std::string& name, const std::string& text) {
    return prefix.empty() ? text : cat("semantic: epe segment's --", name, " (", text, ")");
  };
  const auto add = [&](const std::string& name, auto* target, const std::string& text) {
    return s.add(prefix + name, target, help(name, text));
  };
  add("base-size", &p.base_size, "short side of the frame at scale 1");
  add("crop", &p.crop, "sliding-window side (the model's input size)");
  add("scales", &p.scales, "scales whose probabilities are averaged, e.g. 0.5,1.0,1.5");
  add("flip", &p.flip, "also run each window flipped horizontally and average");
  add("mean", &p.mean, "input normalisation mean, RGB in 0..255 (MSeg: 255 x ImageNet)");
  add("std", &p.std, "input normalisation std, RGB in 0..255");
  add("classes", &p.classes, cat("model output channels (", kUniversalClasses, " = MSeg universal)"));
  add("batch", &p.batch, "windows per forward pass").not_recorded();
}

void add_options(OptionSet& s, SegmentOptions& o) {
  s.add("list,l", &o.list, "file list (synthetic, real, or one image path per line)").required();
  s.add("model,m", &o.model, "TorchScript model").required();
  add_out_option(s, &o.out, "output folder");
  add_options(s, o.protocol, "");
  add_device_option(s, &o.protocol.device);
  add_shard_option(s, &o.shard,
                   "I/N: label only part I (0-based) of N contiguous parts of the list into DIR (shared by the "
                   "shards); epe merge segment writes the list; auto: from the Slurm array task");
  s.add("resume", &o.resume, "keep the label maps already in DIR/labels").not_recorded();
  add_force_option(s, &o.force, "recompute into an existing DIR");
}

std::string format_summary(const SegmentOptions& o, const SegmentResult& r) {
  std::string s = cat("segment: ", r.frames, " frames labelled");
  if (r.reused) s += cat(" (", r.reused, " kept from an earlier run)");
  s += cat(" in ", format_duration(r.seconds), ", ", strprintf("%.2f", r.seconds > 0 ? r.frames / r.seconds : 0.0),
           " frames/s\n  labels: ", r.labels_dir, "\n");
  if (o.shard.active())
    return s + cat("  shard ", o.shard.label(), " (list rows [", r.row_begin, ", ", r.row_end, "))",
                   r.already_complete ? " was already complete" : " complete", ": ", r.shard_marker, "\n");
  return s + cat("  list:   ", r.list_out, "\n");
}

}  // namespace epe
