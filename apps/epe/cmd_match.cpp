#include <cstdio>

#include "command.h"
#include "epe/core/error.h"
#include "epe/core/progress.h"
#include "epe/match/match.h"
#include "epe/match/show.h"
#include "epe/match/weights.h"

namespace epe::app {

int run_match(const Args& args) {
  MatchOptions o;
  CommonOptions c;
  OptionSet s("epe match --src SYN.h5 --dst REAL.h5 --out MATCH.h5 [-k 10] [--min-cosine 0.5] [--index SPEC]",
              "For every source (synthetic) crop, the k most similar target (real) crops by cosine similarity of\n"
              "their L2-normalised features; pairs with cosine >= --min-cosine are kept (the reference's rule\n"
              "'squared L2 distance < 1.0' on unit vectors is cosine > 0.5). --index exact (default) is a tiled\n"
              "exact search with ties broken by index; --index ivf[:NLIST] is an inverted file scanned with\n"
              "matrix products for large sets (--nprobe trades speed for recall); FAISS index-factory strings\n"
              "(IVF4096,Flat, HNSW32, IVF1024,PQ64, ...) work too.");
  s.add("src", &o.src, "source crop store (synthetic)").required();
  s.add("dst", &o.dst, "target crop store (real)").required();
  s.add("out,o", &o.out, "match store to write").required().not_recorded();
  s.add("k,k", &o.k, "neighbours per source crop");
  s.add("min-cosine", &o.min_cosine, "keep pairs with cosine >= this (-1..1)");
  s.add("index", &o.index, "exact | ivf[:NLIST] | FAISS index-factory string");
  s.add("nprobe", &o.nprobe, "IVF lists probed per query (0 = 32 for ivf, FAISS's default otherwise)");
  s.add("ef-search", &o.ef_search, "HNSW efSearch (0 = FAISS default)");
  s.add("train-size", &o.train_size, "training sample (0 = ivf: 32 x lists; FAISS: max(50 x lists, 10000))");
  s.add("center", &o.center, "subtract the mean feature of both sets before normalising");
  s.add("block", &o.block, "source crops per query block (memory: index + one block); 0 = auto: for exact search a quarter of "
        "the job's targets within 4096..65536, else 65536").not_recorded();
  s.add("device", &o.device, "cpu | cuda | cuda:N (exact search on the GPU)").not_recorded();
  s.add("seed", &o.seed, "seed of the training sample");
  std::string src_shard, dst_shard;
  s.add("src-shard", &src_shard, "J/M: search only source shard J of M (contiguous crop rows); writes a part for "
                                 "epe merge match; auto: from the Slurm array").not_recorded();
  s.add("dst-shard", &dst_shard, "I/N: against target shard I of N only (needs --index exact); auto: from the "
                                 "Slurm array").not_recorded();
  s.add("force", &o.force, "overwrite OUT").not_recorded();
  if (!parse_command(s, c, args)) return 0;
  record_options(s, &o.command, &o.options_ini);
  EPE_CHECK(src_shard != "auto" || dst_shard != "auto", "options --src-shard, --dst-shard: only one can be auto (a "
            "Slurm array has one task index; for a grid give both as J/M and I/N)");
  o.src_shard = parse_shard(src_shard, "--src-shard");
  o.dst_shard = parse_shard(dst_shard, "--dst-shard");
  o.check();
  Progress progress("match", 0, "crops");
  MatchResult r = compute_matches(o, &progress);
  progress.finish();
  if (r.part) {
    std::printf("match: %s part (source shard %s rows [%lld, %lld), target shard %s rows [%lld, %lld))%s\n",
                r.already_complete ? "already complete:" : "wrote a", r.src_shard.active() ? r.src_shard.label().c_str() : "0/1",
                static_cast<long long>(r.src_begin), static_cast<long long>(r.src_end),
                r.dst_shard.active() ? r.dst_shard.label().c_str() : "0/1", static_cast<long long>(r.dst_begin),
                static_cast<long long>(r.dst_end), r.already_complete ? ", nothing to do" : "");
    if (!r.already_complete)
      std::printf("  %s, in %s (search %s)\n  memory: search at most %s (target shard + one source block), process "
                  "peak %s\n  part: %s (merge with epe merge match)\n",
                  r.index.c_str(), format_duration(r.seconds).c_str(), format_duration(r.search_seconds).c_str(),
                  format_bytes(static_cast<double>(r.memory_bound_bytes)).c_str(),
                  format_bytes(static_cast<double>(r.peak_rss_bytes)).c_str(), o.out.c_str());
    return 0;
  }
  std::printf("match: %lld source x %lld target crops, k = %lld, %s, in %s (search %s)\n",
              static_cast<long long>(r.n_src), static_cast<long long>(r.n_dst), static_cast<long long>(r.k),
              r.index.c_str(), format_duration(r.seconds).c_str(), format_duration(r.search_seconds).c_str());
  if (r.memory_bound_bytes)
    std::printf("  memory: search at most %s, process peak %s\n",
                format_bytes(static_cast<double>(r.memory_bound_bytes)).c_str(),
                format_bytes(static_cast<double>(r.peak_rss_bytes)).c_str());
  std::fputs(format_match_summary(r, o.out).c_str(), stdout);
  return 0;
}

int run_weights(const Args& args) {
  WeightsOptions o;
  CommonOptions c;
  OptionSet s("epe weights MATCH.h5 [--density-png density.png]",
              "Sampling weights of the kept pairs (the reference's compute_weights.py rule): d = number of pairs\n"
              "covering each source pixel, weight = max(d) / mean(d over the pair's box), per frame size.\n"
              "The match store is rewritten with /pairs/weight and /density (a copy renamed into place).");
  s.add("store", &o.store, "match store").required().positional();
  s.add("density-png", &o.density_png, "heat map of the density (most common frame size)");
  s.add("force", &o.force, "overwrite an existing --density-png");
  if (!parse_command(s, c, args)) return 0;
  WeightsResult r = compute_weights(o);
  std::printf("weights: %lld pairs, %d frame size(s), max density %d, weight min %.4g mean %.4g max %.4g, in %s\n",
              static_cast<long long>(r.pairs), r.sizes, r.max_density, r.min_weight, r.mean_weight, r.max_weight,
              format_duration(r.seconds).c_str());
  std::printf("  store: %s%s%s\n", o.store.c_str(),
              o.density_png.empty() ? "" : "\n  density: ", o.density_png.c_str());
  return 0;
}

int run_show_matches(const Args& args) {
  ShowMatchesOptions o;
  CommonOptions c;
  OptionSet s("epe show-matches MATCH.h5 --out grid.png [--bands 0.5,0.6,0.7,0.8,0.9,1.0] [--per-band 8]",
              "Draws matched pairs side by side (source | target), one row per cosine band, best band on top.");
  s.add("store", &o.store, "match store").required().positional();
  s.add("out,o", &o.out, "PNG to write").required();
  s.add("bands", &o.bands, "band edges, increasing");
  s.add("per-band", &o.per_band, "pairs per band (seeded choice)");
  s.add("thumb", &o.thumb, "crop side in pixels in the picture");
  s.add("seed", &o.seed, "seed of the choice");
  s.add("force", &o.force, "overwrite OUT");
  if (!parse_command(s, c, args)) return 0;
  ShowMatchesResult r = show_matches(o);
  std::printf("show-matches: %d pairs drawn -> %s\n  pairs per band:", r.shown, o.out.c_str());
  for (size_t b = 0; b < r.pairs_in_band.size(); ++b)
    std::printf(" [%.2f,%.2f) %lld", o.bands[b], o.bands[b + 1], static_cast<long long>(r.pairs_in_band[b]));
  std::printf("\n");
  return 0;
}

}  // namespace epe::app
