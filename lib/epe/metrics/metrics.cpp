#include "epe/metrics/metrics.h"

#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <map>
#include <opencv2/imgproc.hpp>

#include "epe/core/atomic_file.h"
#include "epe/core/error.h"
#include "epe/core/json.h"
#include "epe/core/log.h"
#include "epe/core/options.h"
#include "epe/core/progress.h"
#include "epe/core/rng.h"
#include "epe/core/thread_pool.h"
#include "epe/io/classes.h"
#include "epe/io/image.h"
#include "epe/io/labels.h"
#include "epe/nn/device.h"
#include "epe/nn/vgg16.h"
#include "epe/nn/convert.h"

namespace fs = std::filesystem;

namespace epe {

void SkvdOptions::check() const {
  parse_hw(frame, "--skvd-frame", 8192);
  EPE_CHECK(crop_fraction > 0 && crop_fraction <= 1, "option --skvd-crop-fraction must be in (0, 1]");
  EPE_CHECK(crops_per_frame >= 1, "option --skvd-crops-per-frame must be >= 1");
  EPE_CHECK(grid >= 1 && grid <= 64, "option --skvd-grid must be in 1..64");
  EPE_CHECK(threshold >= 0 && threshold < 1, "option --skvd-threshold must be in [0, 1)");
  nn::vgg16_tap_index(layer);
  EPE_CHECK(pool == "none" || pool == "mean", "option --skvd-pool: '", pool, "' is not none or mean");
  EPE_CHECK(subsets >= 1, "option --skvd-subsets must be >= 1");
  EPE_CHECK(subset_size >= 0, "option --skvd-subset-size must be >= 0");
  const auto [h, w] = parse_hw(frame, "--skvd-frame", 8192);
  EPE_CHECK(crop_side() >= 32 && crop_side() <= std::min(h, w), "sKVD crops of side ", crop_side(),
            " do not fit the ", frame, " frame (or are smaller than 32 pixels)");
}

int SkvdOptions::crop_side() const {
  const auto [h, w] = parse_hw(frame, "--skvd-frame", 8192);
  return static_cast<int>(std::floor(std::sqrt(double(h) * double(w) * crop_fraction)));
}

SkvdCrops skvd_crops(const ImageSet& set, const SkvdOptions& o, nn::Vgg16& vgg, const std::string& device,
                     std::uint64_t seed, int role, int threads, Progress* progress) {
  o.check();
  const auto [H, W] = parse_hw(o.frame, "--skvd-frame", 8192);
  const int side = o.crop_side(), g = o.grid, cells = g * g;
  const c10::Device dev = nn::parse_device(device);
  const int tap = nn::vgg16_tap_index(o.layer);
  for (std::size_t i = 0; i < set.images.size(); ++i)
    EPE_CHECK(!set.labels[i].empty(), set.where(i),
              ": sKVD needs robust labels for every frame (a list with a robust-label column; run `epe segment`)");
  SkvdCrops out;
  const int cpf = o.crops_per_frame;
  ThreadPool pool(threads > 0 ? std::size_t(threads) : 0);
  torch::NoGradGuard no_grad;
  const std::size_t frames_per_batch = std::max<std::size_t>(1, 8 / std::size_t(cpf));
  for (std::size_t b = 0; b < set.images.size(); b += frames_per_batch) {
    const std::size_t e = std::min(set.images.size(), b + frames_per_batch);
    std::vector<cv::Mat> crops((e - b) * cpf);
    std::vector<std::uint8_t> grids((e - b) * cpf * cells);
    pool.parallel_for(e - b, [&](std::size_t k) {
      const std::size_t i = b + k;
      try {
        const cv::Mat img = read_image(set.images[i]);
        const cv::Mat lab = read_label_map(set.labels[i], kUniversalClasses - 1, true, set.label_format);
        check_same_size(lab, set.labels[i], img.rows, img.cols, set.images[i]);
        const cv::Mat fi = fill_and_crop(img, H, W, false), fl = fill_and_crop(lab, H, W, true);
        for (int c = 0; c < cpf; ++c) {
          Rng rng(seed, 2 * (static_cast<std::uint64_t>(i) * cpf + c) + static_cast<std::uint64_t>(role));
          const int r0 = static_cast<int>(rng.uniform_int(std::int64_t(0), std::int64_t(H - side)));
          const int c0 = static_cast<int>(rng.uniform_int(std::int64_t(0), std::int64_t(W - side)));
          crops[k * cpf + c] = fi(cv::Rect(c0, r0, side, side)).clone();
          std::uint8_t* gr = grids.data() + (k * cpf + c) * cells;
          for (int y = 0; y < g; ++y)
            for (int x = 0; x < g; ++x)
              gr[y * g + x] = fl.at<std::uint8_t>(r0 + static_cast<int>((2 * y + 1) * std::int64_t(side) / (2 * g)),
                                                  c0 + static_cast<int>((2 * x + 1) * std::int64_t(side) / (2 * g)));
        }
      } catch (const UserError& ex) {
        throw UserError(cat(set.where(i), ": ", ex.what()));
      }
    });
    torch::Tensor x = torch::empty({static_cast<std::int64_t>(crops.size()), 3, side, side}, torch::kFloat32);
    for (std::size_t k = 0; k < crops.size(); ++k)
      x[static_cast<std::int64_t>(k)].copy_(nn::image_to_tensor(crops[k]));
    torch::Tensor y = vgg.forward(nn::normalize(x, nn::Normalization::imagenet()).to(dev), tap);
    y = o.pool == "mean" ? y.mean({2, 3}) : y.reshape({y.size(0), -1});
    y = y.to(torch::kCPU, torch::kFloat32).contiguous();
    if (out.features.d == 0) out.features.d = static_cast<int>(y.size(1));
    out.features.data.insert(out.features.data.end(), y.data_ptr<float>(), y.data_ptr<float>() + y.numel());
    out.features.n += y.size(0);
    out.grids.insert(out.grids.end(), grids.begin(), grids.end());
    for (std::size_t k = 0; k < crops.size(); ++k) out.frame.push_back(static_cast<std::int32_t>(b + k / cpf));
    if (progress) progress->add(static_cast<std::int64_t>(e - b));
  }
  return out;
}

SkvdResult skvd(const SkvdCrops& real, const SkvdCrops& fake, const SkvdOptions& o, std::uint64_t seed) {
  const int cells = o.grid * o.grid;
  SkvdResult r;
  r.candidates = fake.features.n;
  const auto match = nearest_by_labels(fake.grids.data(), fake.features.n, real.grids.data(), real.features.n, cells);
  std::vector<std::int64_t> kf, kr;
  for (std::int64_t i = 0; i < fake.features.n; ++i) {
    const auto& m = match[static_cast<std::size_t>(i)];
    if (m.real >= 0 && double(m.equal) / cells > o.threshold) {
      kf.push_back(i);
      kr.push_back(m.real);
    }
  }
  r.pairs = static_cast<std::int64_t>(kf.size());
  EPE_CHECK(r.pairs >= 2, "sKVD: only ", r.pairs, " of ", r.candidates,
            " fake crops have a real crop whose labels agree on more than ", o.threshold,
            " of the grid; it needs at least 2 (more frames or --skvd-crops-per-frame)");
  if (o.subsets == 1 && (o.subset_size == 0 || o.subset_size >= r.pairs)) {
    r.mean = mmd2_rows(fake.features, kf, real.features, kr);
    r.std = 0;
  } else {
    const std::int64_t size = o.subset_size == 0 ? r.pairs : std::min(o.subset_size, r.pairs);
    EPE_CHECK(size >= 2, "option --skvd-subset-size must be >= 2");
    std::vector<double> v;
    for (int s = 0; s < o.subsets; ++s) {
      Rng rng(seed, 1000003 + static_cast<std::uint64_t>(s));
      std::vector<std::int64_t> sf, sr;
      for (std::int64_t k : rng.sample_without_replacement(r.pairs, size)) {
        sf.push_back(kf[static_cast<std::size_t>(k)]);
        sr.push_back(kr[static_cast<std::size_t>(k)]);
      }
      v.push_back(mmd2_rows(fake.features, sf, real.features, sr));
    }
    const MeanStd m = mean_std(v);
    r.mean = m.mean;
    r.std = m.std;
  }
  // Per class: the fake crop's dominant label (most frequent cell value; ties: smaller id).
  std::map<int, std::pair<std::vector<std::int64_t>, std::vector<std::int64_t>>> groups;
  for (std::size_t k = 0; k < kf.size(); ++k) {
    int count[256] = {0};
    const std::uint8_t* gr = fake.grids.data() + kf[k] * cells;
    for (int c = 0; c < cells; ++c) ++count[gr[c]];
    const int dom = static_cast<int>(std::max_element(count, count + 256) - count);
    groups[dom].first.push_back(kf[k]);
    groups[dom].second.push_back(kr[k]);
  }
  for (auto& [id, p] : groups) {
    SkvdClass c;
    c.id = id;
    c.name = universal_class_name(id);
    c.pairs = static_cast<std::int64_t>(p.first.size());
    c.value = c.pairs >= 2 ? mmd2_rows(fake.features, p.first, real.features, p.second) : std::nan("");
    r.classes.push_back(c);
  }
  std::stable_sort(r.classes.begin(), r.classes.end(),
                   [](const SkvdClass& a, const SkvdClass& b) { return a.pairs > b.pairs; });
  return r;
}

// ---- the command ---------------------------------------------------------------------------

void MetricsOptions::check() const {
  EPE_CHECK(!real.empty(), "option --real is required");
  EPE_CHECK(!fakes.empty(), "give at least one --fake");
  EPE_CHECK(names.empty() || names.size() == fakes.size(), "option --names: give one name per --fake (",
            fakes.size(), "), got ", names.size());
  EPE_CHECK(!metrics.empty(), "option --metrics is empty");
  for (const auto& m : metrics)
    EPE_CHECK(m == "fid" || m == "kid" || m == "kvd" || m == "skvd" || m == "prdc", "option --metrics: '", m,
              "' is not one of fid, kid, kvd, skvd, prdc");
  EPE_CHECK(prdc_features == "inception" || prdc_features == "vgg", "option --prdc-features: '", prdc_features,
            "' is not inception or vgg");
  EPE_CHECK(prdc_k >= 1, "option --prdc-k must be >= 1");
  EPE_CHECK(!out.empty(), "option --out is required");
  EPE_CHECK(kid_subsets >= 1 && kid_subset_size >= 2, "options --kid-subsets >= 1 and --kid-subset-size >= 2");
  extractor.check();
  if (std::find(metrics.begin(), metrics.end(), "skvd") != metrics.end()) skvd.check();
}

namespace {

bool wants(const MetricsOptions& o, const char* m) { return std::find(o.metrics.begin(), o.metrics.end(), m) != o.metrics.end(); }

std::string num(double v, const char* f = "%.4f") { return format_number(v, f); }

// "lower" / "higher" / "equal within std" of b against a (values with stds).
std::string compare(const std::string& metric, const std::string& na, double a, double sa, const std::string& nb,
                    double b, double sb, bool has_std) {
  const double diff = b - a;
  if (has_std && std::abs(diff) <= sa + sb)
    return cat(nb, ": ", metric, " ", num(1e3 * b, "%.3f"), " equals ", na, "'s ", num(1e3 * a, "%.3f"),
               " within their std (difference ", num(1e3 * std::abs(diff), "%.3f"), " <= ", num(1e3 * (sa + sb), "%.3f"),
               ", x10^3)");
  return cat(nb, ": ", metric, " ", diff < 0 ? "lower" : "higher", " than ", na, "'s (",
             num(has_std ? 1e3 * b : b, "%.3f"), " vs ", num(has_std ? 1e3 * a : a, "%.3f"),
             has_std ? cat(", difference beyond the sum of their std ", num(1e3 * (sa + sb), "%.3f"), ", x10^3)") : ")");
}

std::string metrics_json(const MetricsOptions& o, const MetricsResult& r, const std::string& inception_desc,
                         const std::string& vgg_desc) {
  JsonWriter j;
  j.begin_object();
  j.field("epe_format", "metrics").field("command", o.command).field("real", o.real).field("real_frames",
                                                                                               r.real_frames);
  j.key("sets").begin_object();
  for (const auto& row : r.rows) {
    j.key(row.name).begin_object().field("source", row.source).field("frames", row.frames);
    if (row.has_fid) j.field("fid", row.fid);
    if (row.has_kid) j.field("kid_mean", row.kid.mean).field("kid_std", row.kid.std);
    if (row.has_kvd) j.field("kvd_mean", row.kvd.mean).field("kvd_std", row.kvd.std);
    if (row.has_prdc)
      j.field("precision", row.prdc.precision)
          .field("recall", row.prdc.recall)
          .field("density", row.prdc.density)
          .field("coverage", row.prdc.coverage);
    if (row.has_skvd) {
      j.field("skvd_mean", row.skvd.mean).field("skvd_std", row.skvd.std).field("skvd_pairs", row.skvd.pairs);
      j.field("skvd_candidates", row.skvd.candidates);
      j.key("skvd_classes").begin_array();
      for (const auto& c : row.skvd.classes) {
        j.begin_object().field("id", c.id).field("name", c.name).field("pairs", c.pairs);
        if (std::isfinite(c.value))
          j.field("skvd", c.value);
        else
          j.key("skvd").null();
        j.end_object();
      }
      j.end_array();
    }
    j.end_object();
  }
  j.end_object();
  j.key("comparisons").begin_array();
  for (const auto& c : r.comparisons) j.value(c);
  j.end_array();
  j.key("warnings").begin_array();
  for (const auto& w : r.warnings) j.value(w);
  j.end_array();
  j.key("options").begin_object();
  j.key("metrics").begin_array();
  for (const auto& m : o.metrics) j.value(m);
  j.end_array();
  j.field("seed", static_cast<std::int64_t>(o.seed));
  if (wants(o, "fid") || wants(o, "kid")) {
    j.field("inception", inception_desc);
  }
  if (wants(o, "kid")) j.field("kid_subsets", o.kid_subsets).field("kid_subset_size", o.kid_subset_size);
  if (wants(o, "kvd")) {
    j.field("kvd_extractor", vgg_desc).field("kvd_subsets", o.kid_subsets).field("kvd_subset_size", o.kid_subset_size);
  }
  if (wants(o, "prdc"))
    j.key("prdc").begin_object()
        .field("k", o.prdc_k)
        .field("features", o.prdc_features == "vgg" ? vgg_desc : inception_desc)
        .end_object();
  if (wants(o, "skvd")) {
    const SkvdOptions& s = o.skvd;
    j.key("skvd").begin_object()
        .field("frame", s.frame)
        .field("crop_fraction", s.crop_fraction)
        .field("crop_side", s.crop_side())
        .field("crops_per_frame", s.crops_per_frame)
        .field("grid", s.grid)
        .field("threshold", s.threshold)
        .field("layer", s.layer)
        .field("pool", s.pool)
        .field("subsets", s.subsets)
        .field("subset_size", s.subset_size)
        .field("vgg", vgg_desc)
        .end_object();
  }
  j.end_object();
  j.end_object();
  return j.str();
}

}  // namespace

std::string format_metrics_table(const MetricsResult& r, bool md) {
  bool fid = false, kid = false, kvd = false, skvd = false, pr = false;
  for (const auto& row : r.rows) {
    pr |= row.has_prdc;
    fid |= row.has_fid;
    kid |= row.has_kid;
    kvd |= row.has_kvd;
    skvd |= row.has_skvd;
  }
  std::vector<std::string> head = {"set", "frames"};
  if (fid) head.push_back("FID");
  if (kid) head.push_back("KID x10^3");
  if (kvd) head.push_back("KVD x10^3");
  if (skvd) {
    head.push_back("sKVD x10^3");
    head.push_back("sKVD pairs");
  }
  if (pr)
    for (const char* h : {"precision", "recall", "density", "coverage"}) head.push_back(h);
  std::vector<std::vector<std::string>> rows;
  for (const auto& row : r.rows) {
    std::vector<std::string> v = {row.name, std::to_string(row.frames)};
    if (fid) v.push_back(row.has_fid ? num(row.fid, "%.3f") : "-");
    if (kid) v.push_back(row.has_kid ? num(1e3 * row.kid.mean, "%.3f") + " ± " + num(1e3 * row.kid.std, "%.3f") : "-");
    if (kvd) v.push_back(row.has_kvd ? num(1e3 * row.kvd.mean, "%.3f") + " ± " + num(1e3 * row.kvd.std, "%.3f") : "-");
    if (skvd) {
      v.push_back(row.has_skvd ? num(1e3 * row.skvd.mean, "%.3f") + " ± " + num(1e3 * row.skvd.std, "%.3f") : "-");
      v.push_back(row.has_skvd ? cat(row.skvd.pairs, "/", row.skvd.candidates) : "-");
    }
    if (pr)
      for (double x : {row.prdc.precision, row.prdc.recall, row.prdc.density, row.prdc.coverage})
        v.push_back(row.has_prdc ? num(x, "%.3f") : "-");
    rows.push_back(v);
  }
  std::string s;
  if (md) {
    s += "| " + join(head, " | ") + " |\n|";
    for (std::size_t i = 0; i < head.size(); ++i) s += i == 0 ? "---|" : "---:|";
    s += "\n";
    for (const auto& v : rows) s += "| " + join(v, " | ") + " |\n";
    return s;
  }
  std::vector<std::size_t> w(head.size());
  for (std::size_t i = 0; i < head.size(); ++i) w[i] = head[i].size();
  for (const auto& v : rows)
    for (std::size_t i = 0; i < v.size(); ++i) w[i] = std::max(w[i], v[i].size());
  auto line = [&](const std::vector<std::string>& v) {
    std::string l = " ";
    for (std::size_t i = 0; i < v.size(); ++i) {
      const std::string pad(w[i] - std::min(w[i], v[i].size() - (v[i].find("±") != std::string::npos ? 1 : 0)), ' ');
      l += " " + (i == 0 ? v[i] + pad : pad + v[i]);
    }
    return l + "\n";
  };
  s += line(head);
  for (const auto& v : rows) s += line(v);
  return s;
}

MetricsResult run_metrics(const MetricsOptions& o) {
  o.check();
  const auto t0 = std::chrono::steady_clock::now();
  check_output_path(o.out, o.force);
  MetricsResult r;
  const ImageSet real = read_image_set(o.real);
  r.real_frames = static_cast<std::int64_t>(real.images.size());
  std::vector<ImageSet> fakes;
  for (const auto& f : o.fakes) fakes.push_back(read_image_set(f));
  std::vector<std::string> names = o.names;
  if (names.empty())
    for (const auto& f : o.fakes) names.push_back(fs::path(f).stem().string());

  std::unique_ptr<FeatureExtractor> inception, vgg;
  std::shared_ptr<nn::Vgg16> vgg_net;  // one VGG-16 (one weights read) for KVD and sKVD
  std::string inception_desc, vgg_desc;
  const bool prdc_inception = wants(o, "prdc") && o.prdc_features == "inception";
  const bool prdc_vgg = wants(o, "prdc") && o.prdc_features == "vgg";
  if (wants(o, "fid") || wants(o, "kid") || prdc_inception) {
    inception = make_inception_extractor(o.extractor);
    inception_desc = inception->description();
  }
  if (wants(o, "kvd") || wants(o, "skvd") || prdc_vgg) {
    vgg_net = make_metrics_vgg(o.extractor);
    vgg = make_vgg_extractor(o.extractor, vgg_net);
    vgg_desc = vgg->description();
    if (vgg->random_init)
      r.warnings.push_back("VGG-16 has RANDOM weights (no --vgg): KVD and sKVD are not comparable with published "
                           "numbers; pass torchvision's ImageNet VGG-16 state dict");
  }
  auto features = [&](FeatureExtractor& ex, const ImageSet& set, const std::string& what) {
    Progress p(cat(ex.name(), " features of ", what), static_cast<std::int64_t>(set.images.size()), "images");
    bool hit = false;
    FeatureMatrix m = cached_features(ex, set, o.cache, &hit, &p);
    p.finish();
    (hit ? r.cache_hits : r.cache_misses) += 1;
    if (hit) log_info("features of ", what, " (", ex.name(), ") read from the cache");
    return m;
  };
  FeatureMatrix real_inc, real_vgg;
  if (inception) real_inc = features(*inception, real, "real");
  if (wants(o, "kvd") || prdc_vgg) real_vgg = features(*vgg, real, "real");
  SkvdCrops real_crops;
  if (wants(o, "skvd")) {
    Progress p("sKVD crops of real", r.real_frames, "frames");
    real_crops = skvd_crops(real, o.skvd, *vgg_net, o.extractor.device, o.seed, 0, o.extractor.threads, &p);
  }
  for (std::size_t i = 0; i < fakes.size(); ++i) {
    MetricsRow row;
    row.name = names[i];
    row.source = o.fakes[i];
    row.frames = static_cast<std::int64_t>(fakes[i].images.size());
    if (inception) {
      const FeatureMatrix f = features(*inception, fakes[i], names[i]);
      if (wants(o, "fid")) {
        row.fid = fid(real_inc, f);
        row.has_fid = true;
      }
      if (wants(o, "kid")) {
        row.kid = kid(real_inc, f, o.kid_subsets, o.kid_subset_size, o.seed);
        row.has_kid = true;
      }
      if (prdc_inception) {
        row.prdc = prdc(real_inc, f, o.prdc_k);
        row.has_prdc = true;
      }
    }
    if (wants(o, "kvd") || prdc_vgg) {
      const FeatureMatrix f = features(*vgg, fakes[i], names[i]);
      if (wants(o, "kvd")) {
        row.kvd = kid(real_vgg, f, o.kid_subsets, o.kid_subset_size, o.seed);
        row.has_kvd = true;
      }
      if (prdc_vgg) {
        row.prdc = prdc(real_vgg, f, o.prdc_k);
        row.has_prdc = true;
      }
    }
    if (wants(o, "skvd")) {
      Progress p(cat("sKVD crops of ", names[i]), row.frames, "frames");
      const SkvdCrops fc = skvd_crops(fakes[i], o.skvd, *vgg_net, o.extractor.device, o.seed, 1, o.extractor.threads, &p);
      p.finish();
      row.skvd = skvd(real_crops, fc, o.skvd, o.seed);
      row.has_skvd = true;
    }
    r.rows.push_back(row);
  }
  // Every later set against the first (usually the unenhanced input).
  const MetricsRow& base = r.rows.front();
  for (std::size_t i = 1; i < r.rows.size(); ++i) {
    const MetricsRow& x = r.rows[i];
    if (x.has_fid) r.comparisons.push_back(compare("FID", base.name, base.fid, 0, x.name, x.fid, 0, false));
    if (x.has_kid)
      r.comparisons.push_back(compare("KID", base.name, base.kid.mean, base.kid.std, x.name, x.kid.mean, x.kid.std, true));
    if (x.has_kvd)
      r.comparisons.push_back(compare("KVD", base.name, base.kvd.mean, base.kvd.std, x.name, x.kvd.mean, x.kvd.std, true));
    if (x.has_skvd)
      r.comparisons.push_back(
          compare("sKVD", base.name, base.skvd.mean, base.skvd.std, x.name, x.skvd.mean, x.skvd.std, true));
    if (x.has_prdc && base.has_prdc)
      r.comparisons.push_back(cat(x.name, ": precision ", num(x.prdc.precision, "%.3f"), " (", base.name, " ",
                                  num(base.prdc.precision, "%.3f"), "), recall ", num(x.prdc.recall, "%.3f"), " (",
                                  num(base.prdc.recall, "%.3f"), "); higher is closer to the real set"));
  }
  // Reports.
  AtomicDir dir(o.out, o.force);
  const fs::path tmp = dir.temp_path();
  write_file_atomic((tmp / "metrics.json").string(), metrics_json(o, r, inception_desc, vgg_desc));
  std::string md = "# Realism metrics\n\n";
  md += cat("Real set: `", o.real, "` (", r.real_frames, " frames). Command: `", o.command, "`\n\n");
  md += format_metrics_table(r, true);
  md += "\nKID, KVD and sKVD are unbiased MMD² estimates with the kernel (x·y/d + 1)³, shown ×10³ as mean ± std over "
        "subsets (raw values in metrics.json). Lower is closer to the real set.\n";
  if (!r.comparisons.empty()) {
    md += "\n## Against the first set\n\n";
    for (const auto& c : r.comparisons) md += "- " + c + "\n";
  }
  if (!r.warnings.empty()) {
    md += "\n## Warnings\n\n";
    for (const auto& w : r.warnings) md += "- **" + w + "**\n";
  }
  md += "\n## Settings\n\n";
  if (!inception_desc.empty())
    md += cat("- FID/KID features: ", inception_desc, "; KID ", o.kid_subsets, " subsets of min(", o.kid_subset_size,
              ", n_real, n_fake)\n");
  if (!vgg_desc.empty() && wants(o, "kvd"))
    md += cat("- KVD features: ", vgg_desc, "; ", o.kid_subsets, " subsets of min(", o.kid_subset_size,
              ", n_real, n_fake)\n");
  if (wants(o, "prdc"))
    md += cat("- precision/recall (Kynkäänniemi et al. 2019, torch-fidelity's definition, <=) and density/coverage "
              "(Naeem et al. 2020, <): Euclidean distances on the ",
              o.prdc_features == "vgg" ? "KVD" : "Inception", " features (", o.prdc_features == "vgg" ? vgg_desc : inception_desc,
              "), radius = distance to the ", o.prdc_k, "-th nearest neighbour within the set\n");
  if (wants(o, "skvd")) {
    const SkvdOptions& s = o.skvd;
    md += cat("- sKVD: frames scaled and centre-cropped to ", s.frame, "; ", s.crops_per_frame,
              " random square crop(s) per frame of side ", s.crop_side(), " (fraction ", s.crop_fraction,
              " of the frame); labels nearest-sampled on ", s.grid, "x", s.grid, "; each fake crop paired with the real "
              "crop of most equal labels, kept when more than ", s.threshold, " agree; features VGG-16 ", s.layer,
              " (", s.pool == "none" ? "flattened" : "mean-pooled", "); ",
              s.subsets == 1 ? std::string("one subset of all kept pairs")
                             : cat(s.subsets, " subsets of ", s.subset_size ? std::to_string(s.subset_size) : "all", " pairs"),
              "\n");
    md += "\n## sKVD by dominant class of the fake crop\n\n| set | class | pairs | sKVD x10^3 |\n|---|---|---:|---:|\n";
    for (const auto& row : r.rows)
      for (const auto& c : row.skvd.classes)
        md += cat("| ", row.name, " | ", c.name, " | ", c.pairs, " | ", num(1e3 * c.value, "%.3f"), " |\n");
  }
  write_file_atomic((tmp / "metrics.md").string(), md);
  dir.commit();
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

}  // namespace epe
