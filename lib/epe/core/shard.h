#pragma once
// Shards of a per-frame stage (`--shard I/N`): a deterministic, contiguous split of a list's
// rows, so N jobs (a Slurm array, or N shells) each run the stage on one part and
// `epe merge` joins their outputs into exactly the store one unsharded run writes.
//
// Shard I of N (0 <= I < N) of a list of n rows holds rows [floor(I*n/N), floor((I+1)*n/N)):
// the shards are contiguous, in list order, cover every row once, and their sizes differ by
// at most one row (a shard is empty when N > n). Per-frame randomness of the stages is seeded
// by the global row, never by the row within a shard, which is what makes the merge exact.

#include <cstdint>
#include <string>
#include <utility>

namespace epe {

struct Shard {
  int index = 0;            // I, 0-based
  int count = 0;            // N; 0 = not sharded (the whole list)
  bool from_slurm = false;  // given as "auto" (not part of the shard's identity: == ignores it)

  bool active() const { return count > 0; }
  // [begin, end) of the rows of a list of `rows` rows that this shard holds ([0, rows) when
  // not sharded).
  std::pair<std::int64_t, std::int64_t> rows(std::int64_t rows) const;
  std::string label() const;  // "I/N", or "" when not sharded
  bool operator==(const Shard& o) const { return index == o.index && count == o.count; }
};

// Parses the value of a --shard option: "" (not sharded), "I/N", or "auto", which takes the
// shard from a Slurm array job's environment: I = SLURM_ARRAY_TASK_ID - SLURM_ARRAY_TASK_MIN
// (MIN taken as 0 when unset) and N = SLURM_ARRAY_TASK_COUNT. UserError naming `option` for a
// malformed value, I outside [0, N), or "auto" outside an array job.
Shard parse_shard(const std::string& value, const std::string& option = "--shard");

}  // namespace epe
