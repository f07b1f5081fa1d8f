#pragma once
// `epe match` (docs/DESIGN.md §5.3): the k nearest target crops of every source crop, and the pairs
// above a cosine threshold, written as a match store (match_store.h: its format and reader).
//
//
// Sharded matching (format "match-part", version 1). With --dst-shard I/N and/or --src-shard
// J/M, one job searches the source crop rows of shard J (in blocks) against the target crop rows
// of shard I only (core/shard.h: contiguous rows [floor(I*n/N), floor((I+1)*n/N))), so its memory
// is one target shard + one source block, and writes a part:
//   /knn/index  [rows of source shard J, k] int64  global target ids, best first (-1: the
//                                                  target shard has fewer than k crops)
//   /knn/cosine [rows of source shard J, k] float32
//   attributes: those of a match store above but pairs, src_sha256 and dst_sha256, plus
//   src_shard_index/src_shard_count/src_row_begin/src_row_end, the same for dst, and
//   src_rows_sha256/dst_rows_sha256 (of the float16 features of the rows the job read),
//   src_zero_vectors/dst_zero_vectors.
// `epe merge match` merges the N parts of each source shard into the global top-k (the order
// is score, then smaller target id, as in the exact search, so the result equals one unsharded
// --index exact run), filters by the threshold and writes the match store.

#include <cstdint>
#include <string>
#include <vector>

#include "epe/core/options.h"
#include "epe/core/shard.h"

namespace epe {

class Progress;

struct MatchOptions {
  std::string src;              // source (synthetic) crop store
  std::string dst;              // target (real) crop store
  std::string out;              // match store to write
  int k = 10;                   // neighbours per source crop
  double min_cosine = 0.5;      // keep pairs with cosine >= this (= the reference's squared L2 < 1.0)
  std::string index = "exact";  // exact | ivf[:NLIST] (GEMM-scanned IVF) | FAISS factory string (IVF4096,Flat, ...)
  int nprobe = 0;               // IVF probes (0 = 32 for ivf, FAISS's default for FAISS indices)
  int ef_search = 0;            // HNSW efSearch (0 = FAISS default)
  std::int64_t train_size = 0;  // FAISS training sample (0 = automatic)
  bool center = false;          // subtract the mean feature of both sets before normalising
  std::int64_t block = 0;  // source crops per query block; 0 = auto (exact: targets / 4, in 4096..65536; else 65536)
  std::string device = "cpu";  // cpu | cuda[:i] (exact backend on the GPU)
  std::uint64_t seed = 0;      // training sample
  Shard src_shard, dst_shard;  // --src-shard / --dst-shard: write a match part (see above)
  bool force = false;
  std::string command, options_ini;
  bool sharded() const { return src_shard.active() || dst_shard.active(); }
  void check() const;
};

struct MatchResult {
  std::int64_t n_src = 0, n_dst = 0, k = 0;
  double threshold = 0;  // --min-cosine
  bool center = false;
  std::int64_t pairs = 0;
  std::int64_t src_matched = 0;         // source crops with >= 1 kept pair
  std::int64_t dst_used = 0;            // target crops in >= 1 kept pair
  std::int64_t zero_vectors = 0;        // all-zero features (cosine 0 with everything)
  std::vector<std::int64_t> histogram;  // kNN cosines in 20 bins over [-1, 1]
  std::string index;                    // description of the search backend
  double seconds = 0, search_seconds = 0;
  // A part (sharded run): the crop rows searched, and the memory the search held at most
  // (target shard + one source block + its score tile and lists), against the process's peak.
  bool part = false, already_complete = false;
  Shard src_shard, dst_shard;
  std::int64_t src_begin = 0, src_end = 0, dst_begin = 0, dst_end = 0;
  std::int64_t memory_bound_bytes = 0, peak_rss_bytes = 0;
  int parts = 0;  // epe merge match: parts merged
};

// `epe match`: writes a match store, or a match part when options.sharded() (then pairs,
// src_matched, dst_used and histogram stay empty). A part that is already complete at --out
// (same stores, shard and options) is left alone: already_complete, exit 0.
MatchResult compute_matches(const MatchOptions& options, Progress* progress = nullptr);

// Binds every option of `epe match` to `o` (command line, --config files, the record).
void add_options(OptionSet& s, MatchOptions& o);
// The lines `epe match` prints when done (a part's, or the store's with format_match_summary()).
std::string format_summary(const MatchOptions& o, const MatchResult& r);

// `epe merge match`: the M x N parts of one grid (any order, each once) into the match store
// one unsharded run writes. UserError naming the files for missing, duplicated or mismatched
// parts (other crop stores, options or grid) or crop stores whose features changed since;
// nothing is written under `out` then. `command` is recorded as the store's command.
MatchResult merge_match_parts(const std::vector<std::string>& parts, const std::string& out, bool force,
                              const std::string& command, Progress* progress = nullptr);
// The lines `epe merge match` prints (its header line, then format_match_summary()).
std::string format_merge_summary(const MatchResult& r, const std::string& out);

// The lines `epe match` and `epe merge match` print after the search (counts, shares, the
// histogram of the kNN cosines, a hint when every neighbour passed), ending in a newline.
std::string format_match_summary(const MatchResult& r, const std::string& out);

}  // namespace epe
