#pragma once
// Internal to the match module: the attributes every match and match-part store carries, and
// the writer of a match store's /knn and /pairs. `epe match` (one process) and `epe merge
// match` (the parts of a grid of jobs) both write through MatchStoreWriter, so the same kNN
// lists give the same store, byte for byte but for the `created` and `command` attributes.

#include <cstdint>
#include <memory>
#include <string>

#include "epe/core/shard.h"
#include "epe/match/match.h"

namespace H5 {
class H5File;
}

namespace epe {

struct KnnBlock;

// Root attributes shared by match stores and match parts (match.h lists them).
struct MatchHeader {
  std::string src, dst;  // crop store paths, absolute
  std::int64_t n_src = 0, n_dst = 0, k = 0;
  double threshold = 0;
  std::string index;  // the backend's description
  int nprobe = 0, ef_search = 0, center = 0;
  std::string seed;                                // decimal (a uint64 does not fit an int64 attribute)
  std::string src_network, dst_network;            // the crop stores' weights records
  std::string src_boxes_sha256, dst_boxes_sha256;  // of their crop tables
  std::string command, options_ini;

  void write(H5::H5File& f, const char* format, int version) const;  // store header + these attributes
  static MatchHeader read(const H5::H5File& f);
};

// Writes a match store under `temp_path`: call add() with the kNN lists of consecutive source
// crops (global target ids, best first, -1 for none), then finish() with the SHA-256 of both
// stores' /features. result() holds what the summary prints (pairs, matched shares, histogram).
class MatchStoreWriter {
 public:
  MatchStoreWriter(const std::string& temp_path, const MatchHeader& header);
  ~MatchStoreWriter();
  void add(const KnnBlock& lists);
  void finish(const std::string& src_sha256, const std::string& dst_sha256);
  MatchResult& result() { return res_; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  MatchHeader header_;
  MatchResult res_;
  std::int64_t next_src_ = 0;
};

// What a match part records beyond the header: the cell of the grid it searched.
struct MatchPartRecord {
  Shard src_shard, dst_shard;                                           // count 0: not sharded on that side
  std::int64_t src_begin = 0, src_end = 0, dst_begin = 0, dst_end = 0;  // crop rows searched
  std::string src_rows_sha256, dst_rows_sha256;                         // of the float16 features of those rows
  std::int64_t src_zero_vectors = 0, dst_zero_vectors = 0;
};

inline constexpr const char* kMatchPartFormat = "match-part";
inline constexpr int kMatchPartVersion = 1;

// Writes a match part under `temp_path`: add() the lists of consecutive source rows of the
// shard, with ids local to the target shard and at most k columns (fewer when the shard has
// fewer crops); they are stored with global target ids, padded to k with -1 / -infinity.
// The record's hashes and zero counts may be set until finish().
class MatchPartWriter {
 public:
  MatchPartWriter(const std::string& temp_path, const MatchHeader& header);
  ~MatchPartWriter();
  void add(const KnnBlock& lists, std::int64_t dst_offset);
  void finish(const MatchPartRecord& record);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::int64_t k_;
};

// A match part opened for reading (validated on open: format, attributes, row ranges, shapes).
struct MatchPart {
  std::string path;
  MatchHeader header;
  MatchPartRecord record;
  static MatchPart open(const std::string& path);
  // Rows [begin, begin + n) of the part's lists (rows relative to the source shard).
  KnnBlock lists(std::int64_t begin, std::int64_t n) const;
};

// A crop store a match store or part recorded: the recorded path when it exists, else the file
// of that name beside `beside` (stores moved together). UserError when neither exists.
std::string resolve_crop_store(const std::string& recorded, const std::string& beside);

}  // namespace epe
