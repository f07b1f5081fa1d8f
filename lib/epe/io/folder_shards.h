#pragma once
// Shards of the stages that write a folder of per-row files and a list — `epe enhance`
// (OUT/images/NNNNNN.png) and `epe fake-gbuffers` (OUT/gbuffers/NNNNNN.h5), each with
// OUT/<name>.csv — and `epe merge enhance|fake-gbuffers`.
//
// With --shard I/N such a stage writes its usual folder for the list rows of shard I only
// (core/shard.h), its files named by the global row so no two shards share a name, plus
// OUT/shard.ini:
//   kind = enhance | fake-gbuffers
//   list = the list as given; list_sha256, list_rows, shard = I/N, rows = B-E
//   name = the list the stage wrote (<name>.csv)
//   [record]
//   what made the files (checkpoint and its checksum, weights, options), verbatim
// A rerun of a finished shard does nothing. The merge checks that the N shard folders are the
// shards of one list made alike, links (or copies) their files into OUT and writes OUT/<name>.csv
// with every row: the folder one unsharded run writes.

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "epe/io/shard_record.h"

namespace epe {

struct FolderShard {
  std::string kind;  // "enhance" | "fake-gbuffers"
  std::string list;  // the input list as given
  std::string name;  // the list the stage writes: <name>.csv
  ShardRecord shard;
  std::string record;  // compared by the merge and by a rerun

  std::string text() const;
  // UserError naming `path` when the text is not a shard record.
  static FolderShard parse(const std::string& text, const std::string& path);
};

std::string folder_shard_file(const std::string& dir);  // DIR/shard.ini

// The record of shard `shard` of `list` (read to checksum it; `rows` rows) for a stage `kind`.
FolderShard folder_shard_of(const std::string& kind, const std::string& list, std::int64_t rows, const Shard& shard,
                            const std::string& name, const std::string& record);

// Whether `dir` already holds this shard, finished (then a rerun does nothing). False when
// nothing is there or `force` (the stage replaces it). UserError when something else is there,
// saying what differs.
bool folder_shard_complete(const std::string& dir, const FolderShard& want, bool force);

// The start of a stage that writes a folder: with `shard` active, its shard record (`record()`
// is called only then) and whether `out` already holds that shard finished. Not sharded:
// nothing (the stage checks `out` with check_output_path itself).
struct FolderShardStart {
  FolderShard shard;              // empty when not sharded
  bool already_complete = false;  // the stage does nothing then
  std::string list;               // OUT/<name>.csv
};
FolderShardStart start_folder_shard(const std::string& kind, const std::string& list, std::int64_t rows,
                                    const Shard& shard, const std::string& name,
                                    const std::function<std::string()>& record, const std::string& out, bool force);

struct FolderMergeResult {
  int shards = 0;
  std::int64_t rows = 0, files = 0;
  std::string list;  // OUT/<name>.csv
};

// `epe merge KIND --out OUT DIR...`: the shard folders in any order, each once. UserError naming
// the folders for a missing, duplicated or foreign shard (other list, kind, name or record), or
// a shard folder whose list lacks rows; nothing is written under OUT then.
FolderMergeResult merge_folder_shards(const std::string& kind, const std::vector<std::string>& dirs,
                                      const std::string& out, bool force);
// The lines `epe merge enhance|fake-gbuffers` prints, ending in a newline.
std::string format_summary(const FolderMergeResult& r);

}  // namespace epe
