// `epe layout`: the two layout stores, comparison.json, report.md and its pictures.

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <opencv2/imgproc.hpp>

#include "epe/core/atomic_file.h"
#include "epe/core/error.h"
#include "epe/core/json.h"
#include "epe/core/log.h"
#include "epe/core/progress.h"
#include "epe/core/timer.h"
#include "epe/io/file_list.h"
#include "epe/io/image.h"
#include "epe/layout/layout.h"

namespace fs = std::filesystem;

namespace epe {

void LayoutOptions::check() const {
  EPE_CHECK(lists.size() == 2, "give exactly two --list options (dataset A and dataset B), got ", lists.size());
  EPE_CHECK(names.empty() || names.size() == 2, "option --names: give two names (A,B), got ", names.size());
  if (names.size() == 2) {
    EPE_CHECK(names[0] != names[1], "option --names: the two names must differ");
    for (const auto& n : names)
      EPE_CHECK(!n.empty() && n.find_first_of("/\\") == std::string::npos && n != "comparison" && n != "report",
                "option --names: '", n, "' cannot be a file name here");
  }
  parse_grid(grid, "--grid");
  EPE_CHECK(top >= 0 && top <= 50, "option --top must be in 0..50");
  EPE_CHECK(out.size() > 0, "option --out is required");
  EPE_CHECK(pairs > 0, "option --pairs must be > 0");
  EPE_CHECK(sample_grid >= 1 && sample_grid <= 256, "option --sample-grid must be in 1..256");
}

namespace {

// ---- pictures ------------------------------------------------------------------------------

const cv::Scalar kBlack(0, 0, 0), kWhite(255, 255, 255);

void text(cv::Mat& img, const std::string& s, int x, int y, double scale = 0.45, cv::Scalar color = kBlack) {
  cv::putText(img, s, {x, y}, cv::FONT_HERSHEY_SIMPLEX, scale, color, 1, cv::LINE_AA);
}

std::string fmt(double v, const char* f = "%.3g") {
  return format_number(v, f);
}

// Blue - white - red for signed values in [-1, 1] (RGB).
cv::Vec3b diverging(double t) {
  t = std::clamp(t, -1.0, 1.0);
  const double a = std::abs(t);
  const auto mix = [&](double from, double to) {
    return static_cast<std::uint8_t>(std::lround(from + (to - from) * a));
  };
  return t >= 0 ? cv::Vec3b(mix(255, 178), mix(255, 24), mix(255, 43))
                : cv::Vec3b(mix(255, 33), mix(255, 102), mix(255, 172));
}

// One map (RGB, `scale` pixels per cell); signed: diverging around 0 with range +-vmax, else viridis over [0, vmax].
cv::Mat render_map(const std::vector<double>& v, int gh, int gw, double vmax, bool signed_map, int scale) {
  cv::Mat rgb(gh, gw, CV_8UC3);
  if (signed_map) {
    for (int i = 0; i < gh; ++i)
      for (int j = 0; j < gw; ++j) rgb.at<cv::Vec3b>(i, j) = diverging(vmax > 0 ? v[i * gw + j] / vmax : 0.0);
  } else {
    cv::Mat g(gh, gw, CV_8UC1);
    for (int i = 0; i < gh; ++i)
      for (int j = 0; j < gw; ++j)
        g.at<std::uint8_t>(i, j) =
            static_cast<std::uint8_t>(std::lround(255.0 * std::clamp(vmax > 0 ? v[i * gw + j] / vmax : 0.0, 0.0, 1.0)));
    cv::Mat bgr;
    cv::applyColorMap(g, bgr, cv::COLORMAP_VIRIDIS);
    cv::cvtColor(bgr, rgb, cv::COLOR_BGR2RGB);
  }
  cv::Mat big;
  cv::resize(rgb, big, {gw * scale, gh * scale}, 0, 0, cv::INTER_NEAREST);
  return big;
}

// A horizontal colour bar with its end labels.
void colour_bar(cv::Mat& canvas, int x, int y, int w, double lo, double hi, bool signed_map) {
  std::vector<double> ramp(w);
  for (int i = 0; i < w; ++i) ramp[i] = lo + (hi - lo) * (i + 0.5) / w;
  const double vmax = signed_map ? std::max(std::abs(lo), std::abs(hi)) : hi;
  cv::Mat bar = render_map(ramp, 1, w, vmax, signed_map, 1);
  cv::resize(bar, bar, {w, 10}, 0, 0, cv::INTER_NEAREST);
  bar.copyTo(canvas(cv::Rect(x, y, w, 10)));
  cv::rectangle(canvas, cv::Rect(x, y, w, 10), kBlack, 1);
  text(canvas, fmt(lo), x, y + 24, 0.4);
  const std::string h = fmt(hi);
  text(canvas, h, x + w - 7 * static_cast<int>(h.size()), y + 24, 0.4);
}

cv::Mat class_picture(const LayoutStats& a, const LayoutStats& b, const ClassComparison& k) {
  const int gh = a.grid_h, gw = a.grid_w;
  const std::size_t cells = std::size_t(gh) * gw;
  const int scale = std::max(1, 384 / std::max(gw, 1));
  const int pw = gw * scale, ph = gh * scale, pad = 16, top = 56, bottom = 44;
  std::vector<double> ma(a.map(k.id), a.map(k.id) + cells), mb(b.map(k.id), b.map(k.id) + cells), diff(cells);
  double vmax = 0, dmax = 0;
  for (std::size_t i = 0; i < cells; ++i) {
    diff[i] = ma[i] - mb[i];
    vmax = std::max({vmax, ma[i], mb[i]});
    dmax = std::max(dmax, std::abs(diff[i]));
  }
  cv::Mat canvas(top + ph + bottom, pad + 3 * (pw + pad), CV_8UC3, kWhite);
  text(canvas,
       cat(k.name, " (id ", k.id, ")   TV ", fmt(k.tv, "%.3f"), "   JS ", fmt(k.js, "%.3f"), "   share ",
           fmt(100 * k.share_a, "%.2f"), "% vs ", fmt(100 * k.share_b, "%.2f"), "%"),
       pad, 20, 0.55);
  const std::string titles[3] = {"A: " + a.name, "B: " + b.name, "A - B"};
  const std::vector<double>* maps[3] = {&ma, &mb, &diff};
  for (int p = 0; p < 3; ++p) {
    const int x = pad + p * (pw + pad);
    text(canvas, titles[p], x, top - 8);
    render_map(*maps[p], gh, gw, p < 2 ? vmax : dmax, p == 2, scale).copyTo(canvas(cv::Rect(x, top, pw, ph)));
    cv::rectangle(canvas, cv::Rect(x - 1, top - 1, pw + 2, ph + 2), kBlack, 1);
    if (p < 2)
      colour_bar(canvas, x, top + ph + 6, pw, 0.0, vmax, false);
    else
      colour_bar(canvas, x, top + ph + 6, pw, -dmax, dmax, true);
  }
  return canvas;
}

cv::Mat shares_picture(const LayoutStats& a, const LayoutStats& b, const LayoutComparison& cmp) {
  std::vector<const ClassComparison*> rows;
  for (const auto& k : cmp.classes) rows.push_back(&k);
  std::stable_sort(rows.begin(), rows.end(), [](auto* x, auto* y) {
    return std::max(x->share_a, x->share_b) > std::max(y->share_a, y->share_b);
  });
  if (rows.size() > 20) rows.resize(20);
  const int label_w = 190, bar_w = 420, row_h = 30, top = 44;
  double vmax = 1e-12;
  for (auto* k : rows) vmax = std::max({vmax, k->share_a, k->share_b});
  cv::Mat canvas(top + row_h * static_cast<int>(rows.size()) + 16, label_w + bar_w + 90, CV_8UC3, kWhite);
  const cv::Scalar ca(31, 119, 180), cb(255, 127, 14);  // RGB
  text(canvas, "pixel share per class", 10, 18, 0.55);
  cv::rectangle(canvas, cv::Rect(label_w, 26, 12, 10), ca, cv::FILLED);
  text(canvas, "A: " + a.name, label_w + 16, 36, 0.42);
  cv::rectangle(canvas, cv::Rect(label_w + 200, 26, 12, 10), cb, cv::FILLED);
  text(canvas, "B: " + b.name, label_w + 216, 36, 0.42);
  for (std::size_t r = 0; r < rows.size(); ++r) {
    const int y = top + static_cast<int>(r) * row_h;
    std::string name = rows[r]->name.size() > 24 ? rows[r]->name.substr(0, 23) + "." : rows[r]->name;
    text(canvas, name, 8, y + 19, 0.42);
    const double sh[2] = {rows[r]->share_a, rows[r]->share_b};
    for (int s = 0; s < 2; ++s) {
      const int w = std::max(1, static_cast<int>(std::lround(bar_w * sh[s] / vmax)));
      cv::rectangle(canvas, cv::Rect(label_w, y + 3 + 12 * s, w, 11), s == 0 ? ca : cb, cv::FILLED);
      text(canvas, fmt(100 * sh[s], "%.2f%%"), label_w + w + 4, y + 12 + 12 * s, 0.35);
    }
  }
  return canvas;
}

std::string safe_name(const std::string& s) {
  std::string o;
  for (char c : s) o += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
  return o;
}

// ---- text outputs --------------------------------------------------------------------------

std::string comparison_json(const LayoutOptions& o, const LayoutResult& r) {
  JsonWriter j;
  j.begin_object();
  j.field("epe_format", "layout-comparison").field("command", o.command);
  const LayoutStats* ds[2] = {&r.a, &r.b};
  j.key("datasets").begin_array();
  for (const LayoutStats* s : ds) {
    j.begin_object()
        .field("name", s->name)
        .field("list", s->list)
        .field("frames", s->frames)
        .field("frame_sizes", s->frame_sizes)
        .field("labeled_pixels", s->labeled_pixels)
        .field("unlabeled_pixels", s->unlabeled_pixels)
        .end_object();
  }
  j.end_array();
  j.field("labels", to_string(r.a.labels)).field("grid_h", r.a.grid_h).field("grid_w", r.a.grid_w);
  j.key("overall")
      .begin_object()
      .field("tv", r.comparison.overall_tv)
      .field("js", r.comparison.overall_js)
      .end_object();
  j.key("classes").begin_array();
  for (const auto& k : r.comparison.classes) {
    j.begin_object()
        .field("id", k.id)
        .field("name", k.name)
        .field("share_a", k.share_a)
        .field("share_b", k.share_b)
        .field("image_share_a", k.image_share_a)
        .field("image_share_b", k.image_share_b)
        .field("tv", k.tv)
        .field("js", k.js)
        .field("weight", k.weight)
        .field("mismatch", k.mismatch)
        .end_object();
  }
  j.end_array();
  if (!r.sampling.empty()) {
    j.key("sampling").begin_object();
    j.field("matches", o.matches)
        .field("pairs", o.pairs)
        .field("grid", o.sample_grid)
        .field("seed", std::int64_t(o.seed));
    for (const auto& s : r.sampling) {
      j.key(s.strategy).begin_object().field("available", s.available);
      if (s.available)
        j.field("pairs", s.pairs)
            .field("agreement", s.agreement)
            .field("agreement_sem", s.agreement_sem)
            .field("class_js", s.class_js);
      else
        j.field("note", s.note);
      j.end_object();
    }
    j.end_object();
  }
  j.end_object();
  return j.str();
}

}  // namespace

std::string format_sampling_table(const std::vector<SamplingRow>& rows, bool markdown) {
  std::string s;
  if (markdown) {
    s += "| strategy | pairs | label agreement | ± s.e. | class-frequency JS |\n|---|---|---|---|---|\n";
    for (const auto& r : rows)
      s += r.available ? cat("| ", r.strategy, " | ", r.pairs, " | ", fmt(r.agreement, "%.4f"), " | ",
                             fmt(r.agreement_sem, "%.4f"), " | ", fmt(r.class_js, "%.4f"), " |\n")
                       : cat("| ", r.strategy, " | – | – | – | ", r.note, " |\n");
    return s;
  }
  s += "  strategy     pairs   agreement   +-s.e.   class JS\n";
  for (const auto& r : rows) {
    char buf[160];
    if (r.available)
      std::snprintf(buf, sizeof buf, "  %-9s %8lld %11.4f %8.4f %10.4f\n", r.strategy.c_str(),
                    static_cast<long long>(r.pairs), r.agreement, r.agreement_sem, r.class_js);
    else
      std::snprintf(buf, sizeof buf, "  %-9s        -   (%s)\n", r.strategy.c_str(), r.note.c_str());
    s += buf;
  }
  return s;
}

namespace {

std::string report_md(const LayoutOptions& o, const LayoutResult& r, const std::vector<std::string>& class_pngs) {
  std::string s = "# Layout comparison\n\n";
  s += cat("Command: `", o.command, "`\n\n");
  s += "| | dataset | list | frames | frame sizes | unlabeled pixels |\n|---|---|---|---|---|---|\n";
  const LayoutStats* ds[2] = {&r.a, &r.b};
  for (int i = 0; i < 2; ++i) {
    const double tot = double(ds[i]->labeled_pixels + ds[i]->unlabeled_pixels);
    s += cat("| ", i == 0 ? "A" : "B", " | ", ds[i]->name, " | `", ds[i]->list, "` | ", ds[i]->frames, " | ",
             ds[i]->frame_sizes, " | ", fmt(tot > 0 ? 100.0 * ds[i]->unlabeled_pixels / tot : 0.0, "%.2f"), "% |\n");
  }
  s += cat("\nLabels: ", to_string(r.a.labels), "; location grid ", r.a.grid_h, "x", r.a.grid_w,
           " (normalised image coordinates).\n\n");
  s += cat("**Overall mismatch** (pixel-share-weighted mean over classes): total variation **",
           fmt(r.comparison.overall_tv, "%.4f"), "**, Jensen-Shannon **", fmt(r.comparison.overall_js, "%.4f"),
           "** (0 = identical layouts, 1 = disjoint).\n\n");
  s += "Per class: TV and JS (base 2) compare the location maps P(x | class) of A and B; a class present in only "
       "one dataset counts as 1. Weight = mean pixel share; mismatch = weight x TV (the class's part of the overall "
       "score). Sorted by mismatch.\n\n";
  s += "| # | id | class | share A | share B | share B - A | frames A | frames B | TV | JS | mismatch |\n"
       "|---|---|---|---|---|---|---|---|---|---|---|\n";
  int n = 0;
  for (const auto& k : r.comparison.classes) {
    s += cat("| ", ++n, " | ", k.id, " | ", k.name, " | ", fmt(100 * k.share_a, "%.2f"), "% | ",
             fmt(100 * k.share_b, "%.2f"), "% | ", fmt(100 * (k.share_b - k.share_a), "%+.2f"), " | ",
             fmt(100 * k.image_share_a, "%.0f"), "% | ", fmt(100 * k.image_share_b, "%.0f"), "% | ", fmt(k.tv, "%.3f"),
             " | ", fmt(k.js, "%.3f"), " | ", fmt(k.mismatch, "%.4f"), " |\n");
  }
  s += "\n## Pixel shares\n\n![pixel shares](shares.png)\n";
  if (!class_pngs.empty()) {
    s += "\n## Location maps of the most mismatched classes\n\nEach picture: A's map, B's map (same colour scale) "
         "and A - B (red: more likely in A, blue: more likely in B).\n\n";
    for (const auto& p : class_pngs) s += cat("![", p, "](", p, ")\n\n");
  }
  if (!r.sampling.empty()) {
    s += cat("\n## Sampling analysis\n\nMatch store `", o.matches, "`; ", o.pairs, " crop pairs per strategy (seed ",
             o.seed, "), each crop's labels sampled on ", o.sample_grid, "x", o.sample_grid,
             " positions. Agreement = mean fraction of positions where both crops have the same (labelled) class; "
             "class JS = Jensen-Shannon divergence of the two sides' class frequencies. random: independent crops; "
             "matched: match-store pairs, uniformly; weighted: match-store pairs with their sampling weights.\n\n");
    s += format_sampling_table(r.sampling, true);
  }
  return s;
}

}  // namespace

LayoutResult run_layout(const LayoutOptions& o, Progress* progress) {
  o.check();
  const Timer t0;
  const LabelKind kind = o.labels;
  const auto [gh, gw] = parse_grid(o.grid, "--grid");
  std::vector<std::string> names = o.names;
  if (names.empty()) {
    names = {fs::path(o.lists[0]).stem().string(), fs::path(o.lists[1]).stem().string()};
    if (names[0] == names[1]) names = {"A", "B"};
  }
  AtomicDir dir(o.out, o.force);
  const FileList la = read_image_list(o.lists[0]);
  const FileList lb = read_image_list(o.lists[1]);
  if (progress) progress->set_total(static_cast<std::int64_t>(la.rows.size() + lb.rows.size()));

  LayoutResult r;
  r.a = accumulate_layout(la, kind, gh, gw, o.threads, progress);
  r.a.name = names[0];
  r.b = accumulate_layout(lb, kind, gh, gw, o.threads, progress);
  r.b.name = names[1];
  const double scan_s = t0.seconds();
  r.frames_per_second = scan_s > 0 ? double(r.a.frames + r.b.frames) / scan_s : 0.0;
  r.comparison = compare_layouts(r.a, r.b);
  if (!o.matches.empty()) {
    SamplingOptions so;
    so.matches = o.matches;
    so.pairs = o.pairs;
    so.grid = o.sample_grid;
    so.seed = o.seed;
    so.threads = o.threads;
    if (progress) progress->phase("layout sampling", 0, "label maps");
    r.sampling = sampling_analysis(so, la, lb, kind, progress);
  }

  const fs::path tmp = dir.temp_path();
  for (const LayoutStats* s : {&r.a, &r.b}) {
    write_layout_store((tmp / (s->name + ".h5")).string(), *s, o.command, o.options_ini);
    r.files.push_back(s->name + ".h5");
  }
  write_png((tmp / "shares.png").string(), shares_picture(r.a, r.b, r.comparison));
  std::vector<std::string> class_pngs;
  for (int i = 0; i < o.top && i < static_cast<int>(r.comparison.classes.size()); ++i) {
    const ClassComparison& k = r.comparison.classes[static_cast<std::size_t>(i)];
    const std::string png = cat("class_", k.id, "_", safe_name(k.name), ".png");
    write_png((tmp / png).string(), class_picture(r.a, r.b, k));
    class_pngs.push_back(png);
  }
  write_file_atomic((tmp / "comparison.json").string(), comparison_json(o, r));
  write_file_atomic((tmp / "report.md").string(), report_md(o, r, class_pngs));
  r.files.insert(r.files.end(), {"comparison.json", "report.md", "shares.png"});
  r.files.insert(r.files.end(), class_pngs.begin(), class_pngs.end());
  dir.commit();
  r.seconds = t0.seconds();
  return r;
}

}  // namespace epe
