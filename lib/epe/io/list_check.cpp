#include "epe/io/list_check.h"

#include <algorithm>
#include <filesystem>
#include <opencv2/imgcodecs.hpp>

#include "epe/core/error.h"
#include "epe/core/progress.h"
#include "epe/core/thread_pool.h"
#include "epe/io/gbuffers.h"
#include "epe/io/image.h"
#include "epe/io/labels.h"

namespace fs = std::filesystem;

namespace epe {

void CheckOptions::check() const {
  EPE_CHECK(!list.empty(), "option --list is required");
  parse_dataset_kind(kind);
  EPE_CHECK(gt_max_id >= 0 && gt_max_id <= 254, "option --gt-max-id: ", gt_max_id, " is outside 0..254");
  EPE_CHECK(threads >= 0, "option --threads: must be >= 0");
}

std::map<std::string, std::vector<const CheckProblem*>> CheckReport::by_kind() const {
  std::map<std::string, std::vector<const CheckProblem*>> m;
  for (auto& p : problems) m[p.kind].push_back(&p);
  return m;
}

namespace {

struct RowResult {
  std::vector<CheckProblem> problems;
  int channels = -1;
  std::vector<std::string> names;
  bool no_labels = false;
};

bool require_file(const std::string& path, const char* what, long line, RowResult& r) {
  std::error_code ec;
  if (fs::is_regular_file(path, ec)) return true;
  r.problems.push_back({problem::missing_file, line, cat(what, " '", path, "' does not exist")});
  return false;
}

// Reads a label map without judging its ids (so size and id problems are reported apart).
bool check_labels(const std::string& path, const LabelFormat& format, const char* what, int max_id, int h, int w,
                  const std::string& image, long line, RowResult& r) {
  if (!require_file(path, what, line, r)) return false;
  cv::Mat m;
  try {
    m = read_label_map(path, 255, true, format);
  } catch (const UserError& e) {
    r.problems.push_back({problem::bad_labels, line, e.what()});
    return false;
  }
  bool ok = true;
  if (h > 0 && (m.rows != h || m.cols != w)) {
    r.problems.push_back(
        {problem::label_size, line,
         cat(what, " '", path, "' is ", m.rows, "x", m.cols, " (HxW) but image '", image, "' is ", h, "x", w)});
    ok = false;
  }
  std::string bad = find_invalid_label(m, max_id);
  if (!bad.empty()) {
    r.problems.push_back({problem::label_id, line, cat(what, " '", path, "': ", bad)});
    ok = false;
  }
  return ok;
}

RowResult check_row(const ListRow& row, DatasetKind kind, const ListFormat& format, const CheckOptions& opt) {
  RowResult r;
  int h = -1, w = -1;
  if (require_file(row.image(), "image", row.line, r)) {
    try {
      cv::Mat img = read_image_u8(row.image());
      h = img.rows;
      w = img.cols;
    } catch (const UserError& e) {
      r.problems.push_back({problem::bad_image, row.line, e.what()});
    }
  }
  if (row.robust_labels().empty()) {
    r.no_labels = true;
    if (!opt.allow_missing_labels)
      r.problems.push_back({problem::missing_labels, row.line,
                            "the robust_labels column is empty (run `epe segment`, or pass --allow-missing-labels)"});
  } else {
    check_labels(row.robust_labels(), format.robust, "robust label map", kUniversalClasses - 1, h, w, row.image(),
                 row.line, r);
  }
  if (kind == DatasetKind::synthetic) {
    if (row.gbuffers().empty()) {
      if (!opt.allow_missing_gbuffers)
        r.problems.push_back({problem::missing_gbuffers, row.line,
                              "the gbuffers column is empty (run `epe gbuffers pack` or `epe fake-gbuffers`, or pass "
                              "--allow-missing-gbuffers)"});
    } else if (require_file(row.gbuffers(), "G-buffer file", row.line, r)) {
      try {
        GBufferHeader g = probe_gbuffers(row.gbuffers());
        r.channels = g.channels;
        r.names = g.names;
        if (h > 0 && (g.height != h || g.width != w))
          r.problems.push_back({problem::gbuffer_size, row.line,
                                cat("G-buffers '", row.gbuffers(), "' are ", g.height, "x", g.width,
                                    " (HxW) but image '", row.image(), "' is ", h, "x", w)});
      } catch (const UserError& e) {
        r.problems.push_back({problem::bad_gbuffers, row.line, e.what()});
      }
    }
    check_labels(row.gt_labels(), format.gt, "GT label map", opt.gt_max_id, h, w, row.image(), row.line, r);
  }
  return r;
}

}  // namespace

CheckReport check_file_list(const CheckOptions& opt, Progress* progress) {
  opt.check();
  CheckReport rep;
  rep.list = opt.list;
  rep.kind = parse_dataset_kind(opt.kind);
  std::vector<ListIssue> issues;
  FileList list = read_file_list(opt.list, rep.kind, &issues);
  for (auto& i : issues) rep.problems.push_back({problem::columns, i.line, i.message});
  rep.rows = static_cast<long>(list.rows.size() + issues.size());

  std::vector<RowResult> results(list.rows.size());
  if (progress) progress->set_total(static_cast<std::int64_t>(list.rows.size()));
  {
    ThreadPool pool(opt.threads > 0 ? opt.threads : 0);
    pool.parallel_for(list.rows.size(), [&](std::size_t i) {
      results[i] = check_row(list.rows[i], rep.kind, list.format, opt);
      if (progress) progress->add(1);
    });
  }

  // The set's channel count is the most common one; rows that differ are flagged.
  std::map<int, long> counts;
  for (auto& r : results)
    if (r.channels >= 0) ++counts[r.channels];
  if (!counts.empty()) {
    rep.gbuffer_channels =
        std::max_element(counts.begin(), counts.end(), [](auto& a, auto& b) { return a.second < b.second; })->first;
    for (std::size_t i = 0; i < results.size(); ++i) {
      auto& r = results[i];
      if (r.channels >= 0 && rep.gbuffer_channels == r.channels && rep.gbuffer_names.empty())
        rep.gbuffer_names = r.names;
      if (r.channels >= 0 && r.channels != rep.gbuffer_channels)
        r.problems.push_back({problem::gbuffer_channels, list.rows[i].line,
                              cat("G-buffers '", list.rows[i].gbuffers(), "' have ", r.channels,
                                  " channels; the rest of the set has ", rep.gbuffer_channels)});
    }
  }
  for (auto& r : results) {
    if (r.problems.empty()) ++rep.rows_ok;
    if (r.no_labels) ++rep.rows_without_labels;
    rep.problems.insert(rep.problems.end(), r.problems.begin(), r.problems.end());
  }
  std::stable_sort(rep.problems.begin(), rep.problems.end(),
                   [](const CheckProblem& a, const CheckProblem& b) { return a.line < b.line; });
  return rep;
}

std::string format_check_report(const CheckReport& r, int max_examples) {
  std::string s = cat(r.list, " (", to_string(r.kind), "): ", r.rows_ok, " of ", r.rows, " rows ok");
  std::string names;
  for (auto& n : r.gbuffer_names) names += (names.empty() ? "" : ", ") + n;
  if (r.gbuffer_channels >= 0) s += cat("; G-buffers have ", r.gbuffer_channels, " channels (", names, ")");
  s += "\n";
  if (r.rows_without_labels > 0) s += cat("  ", r.rows_without_labels, " row(s) have no robust labels yet\n");
  if (r.ok()) return s + "  no problems found\n";
  const char* order[] = {problem::columns,        problem::missing_file,     problem::bad_image,
                         problem::missing_labels, problem::bad_labels,       problem::label_size,
                         problem::label_id,       problem::missing_gbuffers, problem::bad_gbuffers,
                         problem::gbuffer_size,   problem::gbuffer_channels};
  auto groups = r.by_kind();
  for (const char* kind : order) {
    auto it = groups.find(kind);
    if (it == groups.end()) continue;
    const auto& ps = it->second;
    s += cat("  ", kind, ": ", ps.size(), " problem(s)\n");
    for (std::size_t i = 0; i < ps.size() && static_cast<int>(i) < max_examples; ++i)
      s += cat("    ", at_line(r.list, ps[i]->line, ps[i]->message), "\n");
    if (static_cast<int>(ps.size()) > max_examples) s += cat("    ... and ", ps.size() - max_examples, " more\n");
  }
  return s;
}

}  // namespace epe
