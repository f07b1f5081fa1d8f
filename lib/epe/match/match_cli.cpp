// The command-line face of `epe match`, `epe weights` and `epe show-matches`: their options
// bound to the stage structs, and the lines each prints when done.

#include <cstdio>

#include "epe/core/progress.h"
#include "epe/core/stage_options.h"
#include "epe/match/match.h"
#include "epe/match/show.h"
#include "epe/match/weights.h"

namespace epe {

namespace {
std::string bytes(std::int64_t n) {
  return format_bytes(static_cast<double>(n));
}
}  // namespace

void add_options(OptionSet& s, MatchOptions& o) {
  s.add("src", &o.src, "source crop store (synthetic)").required();
  s.add("dst", &o.dst, "target crop store (real)").required();
  add_out_option(s, &o.out, "match store to write");
  s.add("k,k", &o.k, "neighbours per source crop");
  s.add("min-cosine", &o.min_cosine, "keep pairs with cosine >= this (-1..1)");
  s.add("index", &o.index, "exact | ivf[:NLIST] | FAISS index-factory string");
  s.add("nprobe", &o.nprobe, "IVF lists probed per query (0 = 32 for ivf, FAISS's default otherwise)");
  s.add("ef-search", &o.ef_search, "HNSW efSearch (0 = FAISS default)");
  s.add("train-size", &o.train_size, "training sample (0 = ivf: 32 x lists; FAISS: max(50 x lists, 10000))");
  s.add("center", &o.center, "subtract the mean feature of both sets before normalising");
  s.add("block", &o.block,
        "source crops per query block (memory: index + one block); 0 = auto: for exact search a quarter of "
        "the job's targets within 4096..65536, else 65536")
      .not_recorded();
  add_device_option(s, &o.device, "cpu | cuda | cuda:N (exact search on the GPU)");
  s.add("seed", &o.seed, "seed of the training sample");
  add_shard_option(s, &o.src_shard,
                   "J/M: search only source shard J of M (contiguous crop rows); writes a part for epe merge match; "
                   "auto: from the Slurm array",
                   "src-shard");
  add_shard_option(s, &o.dst_shard,
                   "I/N: against target shard I of N only (needs --index exact); auto: from the Slurm array",
                   "dst-shard");
  add_force_option(s, &o.force, "overwrite OUT");
}

std::string format_summary(const MatchOptions& o, const MatchResult& r) {
  const auto shard = [](const Shard& s) { return s.active() ? s.label() : std::string("0/1"); };
  if (r.part) {
    std::string s =
        cat("match: ", r.already_complete ? "already complete:" : "wrote a", " part (source shard ", shard(r.src_shard),
            " rows [", r.src_begin, ", ", r.src_end, "), target shard ", shard(r.dst_shard), " rows [", r.dst_begin,
            ", ", r.dst_end, "))", r.already_complete ? ", nothing to do" : "", "\n");
    if (!r.already_complete)
      s += cat("  ", r.index, ", in ", format_duration(r.seconds), " (search ", format_duration(r.search_seconds),
               ")\n  memory: search at most ", bytes(r.memory_bound_bytes),
               " (target shard + one source block), process peak ", bytes(r.peak_rss_bytes), "\n  part: ", o.out,
               " (merge with epe merge match)\n");
    return s;
  }
  std::string s = cat("match: ", r.n_src, " source x ", r.n_dst, " target crops, k = ", r.k, ", ", r.index, ", in ",
                      format_duration(r.seconds), " (search ", format_duration(r.search_seconds), ")\n");
  if (r.memory_bound_bytes)
    s +=
        cat("  memory: search at most ", bytes(r.memory_bound_bytes), ", process peak ", bytes(r.peak_rss_bytes), "\n");
  return s + format_match_summary(r, o.out);
}

std::string format_merge_summary(const MatchResult& r, const std::string& out) {
  return cat("merge: ", r.parts, " parts, ", r.n_src, " source x ", r.n_dst, " target crops, k = ", r.k, ", ", r.index,
             ", in ", format_duration(r.seconds), "\n") +
         format_match_summary(r, out);
}

void add_options(OptionSet& s, WeightsOptions& o) {
  s.add("store", &o.store, "match store").required().positional();
  s.add("density-png", &o.density_png, "heat map of the density (most common frame size)");
  add_force_option(s, &o.force, "overwrite an existing --density-png");
}

std::string format_summary(const WeightsOptions& o, const WeightsResult& r) {
  const std::string head = strprintf(
      "weights: %lld pairs, %d frame size(s), max density %d, weight min %.4g mean %.4g "
      "max %.4g, in %s\n",
      static_cast<long long>(r.pairs), r.sizes, r.max_density, r.min_weight, r.mean_weight, r.max_weight,
      format_duration(r.seconds).c_str());
  return cat(head, "  store: ", o.store, o.density_png.empty() ? "" : "\n  density: ", o.density_png, "\n");
}

void add_options(OptionSet& s, ShowMatchesOptions& o) {
  s.add("store", &o.store, "match store").required().positional();
  add_out_option(s, &o.out, "PNG to write");
  s.add("bands", &o.bands, "band edges, increasing");
  s.add("per-band", &o.per_band, "pairs per band (seeded choice)");
  s.add("thumb", &o.thumb, "crop side in pixels in the picture");
  s.add("seed", &o.seed, "seed of the choice");
  add_force_option(s, &o.force, "overwrite OUT");
}

std::string format_summary(const ShowMatchesOptions& o, const ShowMatchesResult& r) {
  std::string s = cat("show-matches: ", r.shown, " pairs drawn -> ", o.out, "\n  pairs per band:");
  for (size_t b = 0; b < r.pairs_in_band.size(); ++b)
    s += strprintf(" [%.2f,%.2f) %lld", o.bands[b], o.bands[b + 1], static_cast<long long>(r.pairs_in_band[b]));
  return s + "\n";
}

}  // namespace epe
