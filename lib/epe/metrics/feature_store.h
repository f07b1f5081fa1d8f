#pragma once
// The feature store of `epe metrics` (format "features", data/README.md): the features of one
// image set under one extractor, as the cache writes it, and its shards.
//
// A complete store, CACHE/<extractor>-<key16>.h5 (features.h: feature_cache_path):
//   /features  float32 [n, d]   row i = image i of the set
//   /images    string  [n]      the resolved image paths
//   attributes key (SHA-256 of the set's checksum and the extractor description), source (the
//   list or folder as given), set_checksum, extractor (the description).
// A shard store (`epe metrics --shard I/N`), DIR/<extractor>-<key16>-shard-<I>-of-<N>.h5, holds
// rows [row_begin, row_end) of the same set (core/shard.h's split of its n images) with the same
// attributes, plus extractor_name and the shard record of io/shard_record.h, whose list_sha256
// is the set's checksum and list_rows its n. `epe merge features` joins the N shards of each
// (set, extractor) into the complete store an unsharded run would have cached, row for row and
// bit for bit (FeatureExtractor::extract_rows keeps the whole set's batches).

#include <cstdint>
#include <string>
#include <vector>

#include "epe/io/shard_record.h"
#include "epe/metrics/kernel.h"

namespace epe {

class FeatureExtractor;
class Progress;
struct ImageSet;

// Everything a feature store records besides its rows.
struct FeatureStoreInfo {
  std::string key, source, set_checksum, extractor;  // as above; extractor = the description
  std::string name;                                  // "inception" | "vgg": the file name's prefix
  ShardRecord shard;                                 // shard.count 0: a complete store
};

// Writes `m` (rows of `images`) and `info` to `path` atomically (a temporary, then renamed).
void write_feature_store(const std::string& path, const FeatureStoreInfo& info, const FeatureMatrix& m,
                         const std::vector<std::string>& images);

// DIR/<name>-<key16>-shard-<I>-of-<N>.h5
std::string feature_shard_path(const std::string& dir, const std::string& name, const std::string& key,
                               const Shard& shard);

struct FeatureShardResult {
  std::string path, source, extractor;                // the store written (or found), the set, the extractor's name
  std::int64_t row_begin = 0, row_end = 0, rows = 0;  // its rows of the set's `rows`
  bool already_complete = false;                      // a finished store of this shard was there
};

// Extracts shard `shard` (active) of `set` with `ex` into `dir` (created when missing). When
// the store is there already with this key and shard, finished, it is kept and nothing is
// extracted (a rerun of a Slurm array task); any other file under its name is replaced with
// `force` and a UserError saying what it holds without.
FeatureShardResult write_feature_shard(FeatureExtractor& ex, const ImageSet& set, const Shard& shard,
                                       const std::string& dir, bool force, Progress* progress);

struct FeatureMergeResult {
  std::vector<std::string> stores;  // the complete stores written into the cache
  int shards = 0;                   // shard stores read
  std::int64_t rows = 0;            // rows written, all stores together
};

// `epe merge features --out CACHE IN...`: IN are shard stores or folders (their shard stores
// *-shard-*-of-*.h5). Groups them by key and writes each group's complete store into
// `cache_dir`. UserError, with nothing written, for a missing or duplicated shard (the set and
// extractor named, with the shards of the same set made with other options or images when
// there are such), a store that is not a feature shard, rows that disagree with the record, or
// an existing complete store without `force`.
FeatureMergeResult merge_feature_shards(const std::vector<std::string>& inputs, const std::string& cache_dir,
                                        bool force);
// The lines `epe merge features` prints, ending in a newline.
std::string format_summary(const FeatureMergeResult& r, const std::string& cache_dir);

}  // namespace epe
