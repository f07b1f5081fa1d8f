#include <cstdio>

#include "command.h"
#include "epe/core/progress.h"
#include "epe/core/stage_options.h"
#include "epe/crops/crops.h"
#include "epe/io/folder_shards.h"
#include "epe/match/match.h"
#include "epe/metrics/feature_store.h"
#include "epe/segment/segment.h"

namespace epe::app {

enum class MergeKind { crops, segment, match, enhance, fake_gbuffers, features };
const Choices<MergeKind> kMergeKinds{{"crops", MergeKind::crops},
                                     {"segment", MergeKind::segment},
                                     {"match", MergeKind::match},
                                     {"enhance", MergeKind::enhance},
                                     {"fake-gbuffers", MergeKind::fake_gbuffers},
                                     {"features", MergeKind::features}};

// The merge of `kind`, its summary returned once its progress line is out.
std::string merge(MergeKind kind, const std::vector<std::string>& in, const std::string& out, bool force) {
  const bool crops = kind == MergeKind::match || kind == MergeKind::crops;  // what its progress counts
  Progress progress("merge", 0, "crops", crops ? Progress::Style::automatic : Progress::Style::none);
  switch (kind) {
    case MergeKind::features:
      return format_summary(merge_feature_shards(in, out, force), out);
    case MergeKind::enhance:
    case MergeKind::fake_gbuffers:
      return format_summary(merge_folder_shards(choice_name(kMergeKinds, kind), in, out, force));
    case MergeKind::match:
      return format_merge_summary(merge_match_parts(in, out, force, command_line(), &progress), out);
    case MergeKind::segment:
      return format_summary(merge_segment_shards(in, out, force));
    case MergeKind::crops:
      return format_summary(merge_crop_shards(in, out, force, command_line(), &progress));
  }
  return "";
}

int run_merge(const Args& args) {
  MergeKind kind = MergeKind::crops;
  std::string out;
  std::vector<std::string> in;
  bool force = false;
  CommonOptions c;
  OptionSet s("epe merge KIND --out OUT SHARD [SHARD ...]",
              "Joins the outputs of a --shard I/N run (match: every cell of the --src-shard x --dst-shard grid) into\n"
              "the store one unsharded run writes. Every shard must be given once, made with the same options.");
  s.add("kind", &kind, "what to merge", kMergeKinds).required().positional();
  s.add("shard", &in, "shard stores (any order)").required().positional(-1);
  add_out_option(s, &out, "merged store to write");
  add_force_option(s, &force, "overwrite OUT");
  if (!parse_command(s, c, args)) return 0;
  std::fputs(merge(kind, in, out, force).c_str(), stdout);
  return 0;
}

}  // namespace epe::app
