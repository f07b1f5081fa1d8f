#include "epe/core/shard.h"

#include <cstdlib>

#include "epe/core/error.h"

namespace epe {

namespace {

// A non-negative decimal integer that fits an int, or -1.
long long parse_count(const std::string& s) {
  if (s.empty() || s.size() > 9 || s.find_first_not_of("0123456789") != std::string::npos) return -1;
  return std::stoll(s);
}

const char* env(const char* name) {
  const char* v = std::getenv(name);
  return v && *v ? v : nullptr;
}

}  // namespace

std::pair<std::int64_t, std::int64_t> Shard::rows(std::int64_t n) const {
  if (!active()) return {0, n};
  // index < 10^9 and n < 2^33 rows keep the products inside int64.
  return {index * n / count, (static_cast<std::int64_t>(index) + 1) * n / count};
}

std::string Shard::label() const {
  return active() ? std::to_string(index) + "/" + std::to_string(count) : "";
}

Shard parse_shard(const std::string& value, const std::string& option) {
  if (value.empty()) return {};
  long long i = -1, n = -1;
  if (value == "auto") {
    const char* id = env("SLURM_ARRAY_TASK_ID");
    const char* count = env("SLURM_ARRAY_TASK_COUNT");
    EPE_CHECK(id && count, "option ", option,
              " auto: SLURM_ARRAY_TASK_ID and SLURM_ARRAY_TASK_COUNT are not set (not a Slurm array job); "
              "give the shard as I/N");
    const char* min = env("SLURM_ARRAY_TASK_MIN");
    const long long lo = min ? parse_count(min) : 0;
    i = parse_count(id);
    n = parse_count(count);
    EPE_CHECK(i >= 0 && n >= 0 && lo >= 0, "option ", option, " auto: SLURM_ARRAY_TASK_ID='", id,
              "', SLURM_ARRAY_TASK_COUNT='", count, "'", min ? cat(", SLURM_ARRAY_TASK_MIN='", min, "'") : "",
              " are not counts");
    EPE_CHECK(i >= lo, "option ", option, " auto: SLURM_ARRAY_TASK_ID ", i, " is below SLURM_ARRAY_TASK_MIN ", lo);
    i -= lo;
    EPE_CHECK(i < n, "option ", option, " auto: task ", i,
              " (SLURM_ARRAY_TASK_ID - SLURM_ARRAY_TASK_MIN) is not below ", "SLURM_ARRAY_TASK_COUNT ", n,
              "; submit the array as --array=0-", n - 1 < 0 ? 0 : n - 1, " (consecutive ids)");
  } else {
    const auto slash = value.find('/');
    if (slash != std::string::npos) {
      i = parse_count(value.substr(0, slash));
      n = parse_count(value.substr(slash + 1));
    }
    EPE_CHECK(i >= 0 && n >= 0, "option ", option, ": '", value, "' is not I/N (e.g. 0/8) or auto");
    EPE_CHECK(n >= 1, "option ", option, ": '", value, "' has N = 0; N is the number of shards (>= 1)");
    EPE_CHECK(i < n, "option ", option, ": '", value, "': the shard index runs from 0 to N-1 = ", n - 1);
  }
  Shard s;
  s.index = static_cast<int>(i);
  s.count = static_cast<int>(n);
  s.from_slurm = value == "auto";
  return s;
}

}  // namespace epe
