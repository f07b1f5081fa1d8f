#pragma once
// What a store written by a per-frame stage records about the list it read and, for a
// `--shard I/N` run, which part of it (core/shard.h), so `epe merge` can tell a complete,
// consistent set of shards from a mix of runs.
//
// Root attributes of any such store: list_sha256 (SHA-256 of the list file's bytes) and
// list_rows (its row count). A shard store adds shard_index, shard_count, row_begin and
// row_end (the list rows [row_begin, row_end) it holds). A merged store carries the list
// attributes only, as an unsharded run's store does.

#include <cstdint>
#include <string>
#include <vector>

#include "epe/core/shard.h"

namespace H5 {
class H5Object;
}

namespace epe {

struct ShardRecord {
  Shard shard;                 // count 0: the whole list
  std::int64_t list_rows = 0;  // rows of the list
  std::string list_sha256;     // of the list file's bytes; "" in stores written before epe recorded it

  std::pair<std::int64_t, std::int64_t> rows() const { return shard.rows(list_rows); }
  bool operator==(const ShardRecord& o) const {
    return shard == o.shard && list_rows == o.list_rows && list_sha256 == o.list_sha256;
  }
};

// The record of a run over `list_path` (read to checksum it) with `rows` rows.
ShardRecord shard_record_of_list(const std::string& list_path, std::int64_t rows, const Shard& shard);

void write_shard_record(H5::H5Object& file, const ShardRecord& r);
// Reads the record of the store at `path` (open as `file`); UserError naming the file when
// the shard attributes are present but inconsistent.
ShardRecord read_shard_record(const H5::H5Object& file, const std::string& path);

// Checks that `records` (of the stores `paths`, same length) are the N shards of one list,
// each exactly once: UserError naming the files for a store that is not a shard, shards of
// different lists or shard counts, a duplicated shard, or missing shards (all listed).
// Returns the positions in `records` in shard order.
std::vector<std::size_t> order_shards(const std::vector<ShardRecord>& records, const std::vector<std::string>& paths);

}  // namespace epe
