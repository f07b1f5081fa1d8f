#pragma once
// `epe check`: validates every row of a file list — files exist and decode, sizes agree,
// label ids are valid, G-buffer channel counts are consistent across the set — and
// groups the problems found by kind with their line numbers.

#include <map>
#include <string>
#include <vector>

#include "epe/io/file_list.h"

namespace epe {

class Progress;

struct CheckOptions {
  std::string list;                     // file list to validate
  std::string kind = "synthetic";       // synthetic | real
  bool allow_missing_labels = false;    // accept rows whose robust_labels column is empty
  bool allow_missing_gbuffers = false;  // accept synthetic rows whose gbuffers column is empty
  int gt_max_id = 33;                   // highest valid GT label id (Cityscapes ids); 255 always valid
  int threads = 0;                      // decoding threads (0 = all cores)
  void check() const;                   // UserError on a bad combination
};

// Problem kinds, in the order the report lists them.
namespace problem {
constexpr const char* columns = "wrong number of columns";
constexpr const char* missing_file = "missing file";
constexpr const char* bad_image = "unreadable image";
constexpr const char* missing_labels = "missing robust labels";
constexpr const char* bad_labels = "unreadable label map";
constexpr const char* label_size = "label map size differs from image";
constexpr const char* label_id = "label id out of range";
constexpr const char* missing_gbuffers = "missing G-buffers";
constexpr const char* bad_gbuffers = "unreadable G-buffers";
constexpr const char* gbuffer_size = "G-buffer size differs from image";
constexpr const char* gbuffer_channels = "inconsistent G-buffer channels";
}  // namespace problem

struct CheckProblem {
  std::string kind;  // one of problem::*
  long line = 0;     // line in the list (0 = the list as a whole)
  std::string message;
};

struct CheckReport {
  std::string list;
  DatasetKind kind = DatasetKind::real;
  long rows = 0;     // data rows (including malformed ones)
  long rows_ok = 0;  // rows without any problem
  long rows_without_labels = 0;
  int gbuffer_channels = -1;  // the set's channel count (most common), -1 if none read
  std::vector<std::string> gbuffer_names;
  std::vector<CheckProblem> problems;  // sorted by line

  bool ok() const { return problems.empty(); }
  std::map<std::string, std::vector<const CheckProblem*>> by_kind() const;
};

// Throws UserError only when the list itself cannot be read or is empty.
CheckReport check_file_list(const CheckOptions& opt, Progress* progress = nullptr);

// The human-readable summary: rows ok, then each problem kind with its count and the first
// `max_examples` lines ("list.csv:7: label map ... is 10x20 but ...").
std::string format_check_report(const CheckReport& r, int max_examples = 5);

}  // namespace epe
