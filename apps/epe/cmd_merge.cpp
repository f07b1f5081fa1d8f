#include <cstdio>

#include "command.h"
#include "epe/core/error.h"
#include "epe/core/progress.h"
#include "epe/crops/crops.h"
#include "epe/io/folder_shards.h"
#include "epe/match/match.h"
#include "epe/metrics/feature_store.h"
#include "epe/segment/segment.h"

namespace epe::app {

int run_merge(const Args& args) {
  std::string kind, out;
  std::vector<std::string> shards;
  bool force = false;
  CommonOptions c;
  OptionSet s("epe merge KIND --out OUT SHARD [SHARD ...]",
              "Joins the outputs of a stage run with --shard I/N into the store one unsharded run writes.\n"
              "KIND: crops (the shard stores of epe crops) or segment (the shard markers DIR/shards/*.done of\n"
              "epe segment, or DIR itself; OUT is DIR and the list DIR/<list>.csv is written) or match (the parts\n"
              "of epe match --src-shard/--dst-shard: every cell of the source x target grid once; the global\n"
              "top-k, equal to one unsharded --index exact run), enhance or fake-gbuffers (their shard folders; OUT\n"
              "gets every file and the whole list), or features (the feature shard stores of epe metrics --shard, or\n"
              "their folders; OUT is the feature cache folder, one complete store per set and extractor). Every shard\n"
              "0..N-1 must be given once, computed\n"
              "with the same options and weights; missing, duplicated or mismatched shards are errors and nothing\n"
              "is written.");
  s.add("kind", &kind, "what to merge: crops | segment | match | enhance | fake-gbuffers | features")
      .required()
      .positional();
  s.add("shard", &shards, "shard stores (any order)").required().positional(-1);
  s.add("out,o", &out, "merged store to write").required();
  s.add("force", &force, "overwrite OUT");
  if (!parse_command(s, c, args)) return 0;
  EPE_CHECK(kind == "crops" || kind == "segment" || kind == "match" || kind == "enhance" || kind == "fake-gbuffers" ||
                kind == "features",
            "epe merge: '", kind,
            "' is not a kind of shard this epe merges (crops, segment, match, enhance, fake-gbuffers, features)");
  if (kind == "features") {
    const FeatureMergeResult r = merge_feature_shards(shards, out, force);
    std::printf("merge: %d shards into %zu feature stores (%lld rows) in %s\n", r.shards, r.stores.size(),
                static_cast<long long>(r.rows), out.c_str());
    for (const auto& p : r.stores) std::printf("  %s\n", p.c_str());
    return 0;
  }
  if (kind == "enhance" || kind == "fake-gbuffers") {
    const FolderMergeResult r = merge_folder_shards(kind, shards, out, force);
    std::printf("merge: %d shards, %lld rows, %lld files\n  list: %s\n", r.shards, static_cast<long long>(r.rows),
                static_cast<long long>(r.files), r.list.c_str());
    return 0;
  }
  if (kind == "match") {
    Progress progress("merge", 0, "crops");
    MatchResult r = merge_match_parts(shards, out, force, command_line(), &progress);
    progress.finish();
    std::printf("merge: %d parts, %lld source x %lld target crops, k = %lld, %s, in %s\n", r.parts,
                static_cast<long long>(r.n_src), static_cast<long long>(r.n_dst), static_cast<long long>(r.k),
                r.index.c_str(), format_duration(r.seconds).c_str());
    std::fputs(format_match_summary(r, out).c_str(), stdout);
    return 0;
  }
  if (kind == "segment") {
    SegmentMergeResult r = merge_segment_shards(shards, out, force);
    std::printf("merge: %d shards, %lld frames labelled\n  list: %s\n", r.shards, static_cast<long long>(r.frames),
                r.list_out.c_str());
    return 0;
  }
  Progress progress("merge", 0, "crops");
  MergeResult r = merge_crop_shards(shards, out, force, command_line(), &progress);
  progress.finish();
  std::printf("merge: %d shards, %lld crops of %lld frames in %s\n  store: %s (%s)\n", r.shards,
              static_cast<long long>(r.crops), static_cast<long long>(r.frames), format_duration(r.seconds).c_str(),
              r.out.c_str(), format_bytes(static_cast<double>(r.bytes)).c_str());
  return 0;
}

}  // namespace epe::app
