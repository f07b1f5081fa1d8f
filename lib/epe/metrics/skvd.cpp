#include "epe/metrics/skvd.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <opencv2/imgproc.hpp>

#include "epe/core/error.h"
#include "epe/core/numpy_rng.h"
#include "epe/core/options.h"
#include "epe/core/progress.h"
#include "epe/core/rng.h"
#include "epe/core/thread_pool.h"
#include "epe/io/classes.h"
#include "epe/io/image.h"
#include "epe/io/labels.h"
#include "epe/metrics/resize.h"
#include "epe/nn/convert.h"
#include "epe/nn/device.h"
#include "epe/nn/vgg16.h"

namespace epe {

namespace {

constexpr int kFeamganHeight = 526, kFeamganWidth = 957, kFeamganWidth169 = 935;

// Width of a rows x cols frame scaled to `height` rows, aspect kept (rounded to nearest).
int scaled_width(int rows, int cols, int height) {
  return static_cast<int>(std::lround(double(cols) * height / rows));
}

}  // namespace

const Choices<SkvdProtocol>& skvd_protocols() {
  static const Choices<SkvdProtocol> c{{"feamgan", SkvdProtocol::feamgan}, {"epe", SkvdProtocol::epe}};
  return c;
}

void SkvdOptions::check() const {
  if (frame != "auto") parse_hw(frame, "--skvd-frame", 8192);
  EPE_CHECK(crop_fraction > 0 && crop_fraction <= 1, "option --skvd-crop-fraction must be in (0, 1]");
  EPE_CHECK(crops_per_frame >= 1, "option --skvd-crops-per-frame must be >= 1");
  EPE_CHECK(feamgan() ? crops_per_frame == 1 : true,
            "option --skvd-crops-per-frame belongs to --skvd-protocol epe (FeaMGAN cuts one crop per frame)");
  EPE_CHECK(every >= 1, "option --skvd-every must be >= 1");
  EPE_CHECK(grid >= 1 && grid <= 64, "option --skvd-grid must be in 1..64");
  EPE_CHECK(threshold >= 0 && threshold < 1, "option --skvd-threshold must be in [0, 1)");
  nn::vgg16_tap_index(layer);
  EPE_CHECK(subsets >= 1, "option --skvd-subsets must be >= 1");
  EPE_CHECK(subset_size >= 0, "option --skvd-subset-size must be >= 0");
  EPE_CHECK(ckvd_min_share >= 0 && ckvd_min_share < 1, "option --ckvd-min-share must be in [0, 1)");
  if (frame != "auto") {
    const auto [h, w] = parse_hw(frame, "--skvd-frame", 8192);
    EPE_CHECK(crop_side(h, w) >= 32 && crop_side(h, w) <= std::min(h, w), "sKVD crops of side ", crop_side(h, w),
              " do not fit the ", frame, " frame (or are smaller than 32 pixels)");
  }
}

int SkvdOptions::crop_side(int h, int w) const {
  const int p = static_cast<int>(std::floor(std::sqrt(double(h) * double(w) * crop_fraction)));
  return feamgan() ? 2 * (p / 2) : p;
}

std::pair<int, int> SkvdOptions::resolve_frame(const ImageSet& real, const ImageSet& fake) const {
  if (!feamgan())
    return frame == "auto" ? std::make_pair(kFeamganHeight, kFeamganWidth) : parse_hw(frame, "--skvd-frame", 8192);
  const auto hw = frame == "auto" ? std::make_pair(kFeamganHeight, 0) : parse_hw(frame, "--skvd-frame", 8192);
  // The narrowest frame of either set once scaled to H rows decides `auto` and must hold W.
  int narrowest = 1 << 30;
  std::string which;
  for (const ImageSet* s : {&real, &fake})
    for (std::size_t i = 0; i < s->images.size(); ++i) {
      const auto size = read_image_size(s->images[i]);
      const int w = scaled_width(size[0], size[1], hw.first);
      if (w < narrowest) {
        narrowest = w;
        which = cat(s->where(i), " (", size[1], "x", size[0], ")");
      }
    }
  int width = hw.second;
  if (width == 0) width = narrowest >= kFeamganWidth ? kFeamganWidth : kFeamganWidth169;
  EPE_CHECK(narrowest >= width, "sKVD (feamgan protocol): ", which, " is ", narrowest, " pixels wide at ", hw.first,
            " rows, narrower than the ", hw.first, "x", width, " crop; give a smaller --skvd-frame");
  EPE_CHECK(crop_side(hw.first, width) >= 32, "sKVD crops of side ", crop_side(hw.first, width),
            " are smaller than 32 pixels");
  return {hw.first, width};
}

CropPlan plan_crops(const SkvdOptions& o, const ImageSet& real, const ImageSet& fake, std::uint64_t seed) {
  o.check();
  CropPlan plan;
  std::tie(plan.height, plan.width) = o.resolve_frame(real, fake);
  plan.side = o.crop_side(plan.height, plan.width);
  const int H = plan.height, W = plan.width, side = plan.side;
  if (o.feamgan()) {
    // kvdEval's loop: step s reads fake frame s and real frame s mod n_real; the metric draws
    // the generated (fake) crop first, then the real one.
    NumpyGenerator rng(o.feamgan_seed);
    const int p2 = side / 2;
    auto draw = [&](std::int32_t frame) {
      CropSpec c;
      c.frame = frame;
      c.r0 = static_cast<int>(rng.integers(p2, H - p2)) - p2;
      c.c0 = static_cast<int>(rng.integers(p2, W - p2)) - p2;
      return c;
    };
    const std::int64_t n_real = static_cast<std::int64_t>(real.images.size());
    for (std::int64_t s = 0; s < static_cast<std::int64_t>(fake.images.size()); s += o.every) {
      plan.fake.push_back(draw(static_cast<std::int32_t>(s)));
      plan.real.push_back(draw(static_cast<std::int32_t>(s % n_real)));
    }
    return plan;
  }
  auto epe_crops = [&](const ImageSet& set, int role, std::vector<CropSpec>& out) {
    const int cpf = o.crops_per_frame;
    for (std::size_t i = 0; i < set.images.size(); ++i)
      for (int c = 0; c < cpf; ++c) {
        Rng rng(seed, 2 * (static_cast<std::uint64_t>(i) * cpf + c) + static_cast<std::uint64_t>(role));
        CropSpec s;
        s.frame = static_cast<std::int32_t>(i);
        s.r0 = static_cast<int>(rng.uniform_int(std::int64_t(0), std::int64_t(H - side)));
        s.c0 = static_cast<int>(rng.uniform_int(std::int64_t(0), std::int64_t(W - side)));
        out.push_back(s);
      }
  };
  epe_crops(real, 0, plan.real);
  epe_crops(fake, 1, plan.fake);
  return plan;
}

const std::vector<CkvdGroup>& ckvd_groups() {
  // FeaMGAN's CkvdMetric.name_to_class_ids (MSeg universal ids, e.g. 142 = sky, 98 = road).
  static const std::vector<CkvdGroup> groups = {
      {"sky", {142}},
      {"ground", {94, 95, 97, 100, 101}},
      {"road", {98}},
      {"terrain", {102}},
      {"vegetation", {174}},
      {"roadside-obj.", {130, 131, 132, 133, 134, 135, 136, 137, 138, 139, 140, 141}},
      {"building-parent", {31, 32, 33, 35, 36}},
      {"person-parent", {125, 126, 127, 128}},
      {"vehicle", {175, 176, 177, 178, 180, 181, 182, 183, 185}},
      {"rest", {}},
  };
  return groups;
}

namespace {

struct Prepared {
  cv::Mat image;   // CV_32FC3 RGB in [0, 1], plan.height x plan.width
  cv::Mat labels;  // CV_8UC1
};

// Centre-aligned nearest neighbour as PIL's Image.resize(NEAREST) computes it (its affine scale
// path): source coordinate 0.5 * s, then + s per pixel in double (s = in / out), truncated. The
// running sum differs from (i + 0.5) * s in the last bit, which picks another pixel at exact
// halves (e.g. 256 -> 192); DALI's INTERP_NN, which it stands in for, is the same rule.
std::vector<int> nearest_index(int in, int out) {
  std::vector<int> idx(static_cast<std::size_t>(out));
  const double s = double(in) / out;
  double v = 0.5 * s;
  for (int i = 0; i < out; ++i, v += s) idx[static_cast<std::size_t>(i)] = std::min(in - 1, static_cast<int>(v));
  return idx;
}

cv::Mat resize_nearest_centred(const cv::Mat& m, int h, int w) {
  cv::Mat out(h, w, m.type());
  const std::vector<int> cols = nearest_index(m.cols, w), rows = nearest_index(m.rows, h);
  for (int y = 0; y < h; ++y) {
    const std::uint8_t* src = m.ptr<std::uint8_t>(rows[static_cast<std::size_t>(y)]);
    std::uint8_t* dst = out.ptr<std::uint8_t>(y);
    for (int x = 0; x < w; ++x) dst[x] = src[cols[static_cast<std::size_t>(x)]];
  }
  return out;
}

Prepared prepare_frame(const ImageSet& set, std::size_t i, const SkvdOptions& o, const CropPlan& plan) {
  const int H = plan.height, W = plan.width;
  Prepared p;
  const cv::Mat lab = read_label_map(set.labels[i], kUniversalClasses - 1, true, set.label_format);
  if (!o.feamgan()) {
    const cv::Mat img = read_image(set.images[i]);
    check_same_size(lab, set.labels[i], img.rows, img.cols, set.images[i]);
    p.image = fill_and_crop(img, H, W, false);
    p.labels = fill_and_crop(lab, H, W, true);
    return p;
  }
  const cv::Mat u8 = read_image_u8(set.images[i]);
  check_same_size(lab, set.labels[i], u8.rows, u8.cols, set.images[i]);
  const int sw = scaled_width(u8.rows, u8.cols, H);
  EPE_CHECK(sw >= W, "is ", sw, " pixels wide at ", H, " rows, narrower than the ", H, "x", W, " sKVD frame");
  // DALI's resize returns 8-bit pixels: resize in float, round, saturate, then scale to [0, 1].
  cv::Mat f;
  u8.convertTo(f, CV_32F);
  cv::Mat r = resize_pil_bicubic(f, H, sw);
  cv::Mat q;
  r.convertTo(q, CV_8U);  // saturating, round half away from zero
  const int c0 = static_cast<int>(std::roundf(0.5f * static_cast<float>(sw - W)));
  q(cv::Rect(c0, 0, W, H)).convertTo(p.image, CV_32F, 1.0 / 255.0);
  p.labels = resize_nearest_centred(lab, H, sw)(cv::Rect(c0, 0, W, H)).clone();
  return p;
}

void sample_grid(const cv::Mat& labels, const CropSpec& c, int side, int g, bool feamgan, std::uint8_t* out) {
  const float scale = static_cast<float>(side) / static_cast<float>(g);  // PyTorch's nearest: float scale
  for (int y = 0; y < g; ++y)
    for (int x = 0; x < g; ++x) {
      int ry, rx;
      if (feamgan) {
        ry = std::min(side - 1, static_cast<int>(std::floor(static_cast<float>(y) * scale)));
        rx = std::min(side - 1, static_cast<int>(std::floor(static_cast<float>(x) * scale)));
      } else {
        ry = static_cast<int>((2 * y + 1) * std::int64_t(side) / (2 * g));
        rx = static_cast<int>((2 * x + 1) * std::int64_t(side) / (2 * g));
      }
      out[y * g + x] = labels.at<std::uint8_t>(c.r0 + ry, c.c0 + rx);
    }
}

// Group membership of each label value (-1: no group, i.e. "rest").
std::array<int, 256> group_of_label() {
  std::array<int, 256> g;
  g.fill(-1);
  const auto& groups = ckvd_groups();
  for (std::size_t k = 0; k < groups.size(); ++k)
    for (int id : groups[k].ids) g[static_cast<std::size_t>(id)] = static_cast<int>(k);
  return g;
}

void append_rows(FeatureMatrix& m, const torch::Tensor& y) {
  if (m.d == 0) m.d = static_cast<int>(y.size(1));
  m.data.insert(m.data.end(), y.data_ptr<float>(), y.data_ptr<float>() + y.numel());
  m.n += y.size(0);
}

}  // namespace

SkvdCrops skvd_crops(const ImageSet& set, const std::vector<CropSpec>& specs, const CropPlan& plan,
                     const SkvdOptions& o, nn::Vgg16& vgg, const std::string& device, bool want_skvd, bool want_ckvd,
                     int threads, Progress* progress) {
  o.check();
  const int side = plan.side, g = o.grid, cells = g * g;
  const c10::Device dev = nn::parse_device(device);
  const int tap = nn::vgg16_tap_index(o.layer);
  for (const CropSpec& c : specs)
    EPE_CHECK(!set.labels[static_cast<std::size_t>(c.frame)].empty(), set.where(static_cast<std::size_t>(c.frame)),
              ": sKVD/cKVD need robust labels for every frame (a list with a robust-label column; run `epe segment`)");
  const auto& groups = ckvd_groups();
  const std::size_t n_groups = groups.size();
  static const std::array<int, 256> group_of = group_of_label();
  SkvdCrops out;
  if (want_ckvd) out.groups.resize(n_groups);
  ThreadPool pool(threads > 0 ? std::size_t(threads) : 0);
  torch::NoGradGuard no_grad;
  auto features = [&](const std::vector<cv::Mat>& crops) {
    torch::Tensor x = torch::empty({static_cast<std::int64_t>(crops.size()), 3, side, side}, torch::kFloat32);
    for (std::size_t k = 0; k < crops.size(); ++k) x[static_cast<std::int64_t>(k)].copy_(nn::image_to_tensor(crops[k]));
    torch::Tensor y = vgg.forward(nn::normalize(x, nn::Normalization::imagenet()).to(dev), tap);
    y = o.pool == FeaturePool::mean ? y.mean({2, 3}) : y.reshape({y.size(0), -1});
    return y.to(torch::kCPU, torch::kFloat32).contiguous();
  };
  const std::size_t batch = 8;
  std::vector<std::vector<cv::Mat>> group_batch(n_groups);
  std::vector<std::vector<std::int64_t>> group_ids(n_groups);
  auto flush_group = [&](std::size_t k, bool all) {
    if (group_batch[k].empty() || (!all && group_batch[k].size() < batch)) return;
    append_rows(out.groups[k].features, features(group_batch[k]));
    out.groups[k].crops.insert(out.groups[k].crops.end(), group_ids[k].begin(), group_ids[k].end());
    group_batch[k].clear();
    group_ids[k].clear();
  };
  for (std::size_t b = 0; b < specs.size(); b += batch) {
    const std::size_t e = std::min(specs.size(), b + batch);
    // Each distinct frame of the batch is prepared once (epe cuts several crops per frame).
    std::vector<std::int32_t> frames;
    for (std::size_t k = b; k < e; ++k)
      if (frames.empty() || frames.back() != specs[k].frame) frames.push_back(specs[k].frame);
    std::vector<Prepared> prepared(frames.size());
    pool.parallel_for(frames.size(), [&](std::size_t j) {
      const std::size_t i = static_cast<std::size_t>(frames[j]);
      try {
        prepared[j] = prepare_frame(set, i, o, plan);
      } catch (const UserError& ex) {
        throw UserError(cat(set.where(i), ": ", ex.what()));
      }
    });
    std::vector<cv::Mat> crops;
    std::size_t j = 0;
    for (std::size_t k = b; k < e; ++k) {
      while (frames[j] != specs[k].frame) ++j;
      const CropSpec& c = specs[k];
      const cv::Rect rect(c.c0, c.r0, side, side);
      const cv::Mat img = prepared[j].image(rect).clone(), lab = prepared[j].labels(rect);
      std::vector<std::uint8_t> grid(static_cast<std::size_t>(cells));
      sample_grid(prepared[j].labels, c, side, g, o.feamgan(), grid.data());
      out.grids.insert(out.grids.end(), grid.begin(), grid.end());
      out.frame.push_back(c.frame);
      if (want_skvd) crops.push_back(img);
      if (want_ckvd) {
        // Per group: pixel share and masked copy (mid-grey outside the group).
        std::vector<std::int64_t> count(n_groups, 0);
        for (int y = 0; y < side; ++y) {
          const std::uint8_t* l = lab.ptr<std::uint8_t>(y);
          for (int x = 0; x < side; ++x) {
            const int gi = group_of[l[x]];
            ++count[gi < 0 ? n_groups - 1 : static_cast<std::size_t>(gi)];
          }
        }
        const double area = double(side) * side;
        for (std::size_t q = 0; q < n_groups; ++q) {
          const bool rest = q + 1 == n_groups;
          if (!rest && !(double(count[q]) / area > o.ckvd_min_share)) continue;
          cv::Mat masked = img.clone();
          for (int y = 0; y < side; ++y) {
            const std::uint8_t* l = lab.ptr<std::uint8_t>(y);
            cv::Vec3f* px = masked.ptr<cv::Vec3f>(y);
            for (int x = 0; x < side; ++x) {
              const int gi = group_of[l[x]];
              const bool in = rest ? gi < 0 : gi == static_cast<int>(q);
              if (!in) px[x] = cv::Vec3f(0.5f, 0.5f, 0.5f);
            }
          }
          group_batch[q].push_back(masked);
          group_ids[q].push_back(static_cast<std::int64_t>(out.frame.size()) - 1);
          flush_group(q, false);
        }
      }
    }
    if (want_skvd) append_rows(out.features, features(crops));
    if (progress) progress->add(static_cast<std::int64_t>(e - b));
  }
  for (std::size_t q = 0; q < out.groups.size(); ++q) flush_group(q, true);
  return out;
}

namespace {

// Kept pairs (query row, pool row) of query grids against pool grids.
struct Pairs {
  std::vector<std::int64_t> query, pool;
};

Pairs pair_by_labels(const std::uint8_t* query, std::int64_t n_query, const std::uint8_t* pool, std::int64_t n_pool,
                     int cells, double threshold) {
  Pairs p;
  const auto match = nearest_by_labels(query, n_query, pool, n_pool, cells);
  for (std::int64_t i = 0; i < n_query; ++i) {
    const auto& m = match[static_cast<std::size_t>(i)];
    if (m.real >= 0 && double(m.equal) / cells > threshold) {
      p.query.push_back(i);
      p.pool.push_back(m.real);
    }
  }
  return p;
}

// MMD^2 of the pairs: all of them once (subsets == 1), else per subset of subset_size pairs.
std::vector<double> pair_mmds(const FeatureMatrix& a, const std::vector<std::int64_t>& ra, const FeatureMatrix& b,
                              const std::vector<std::int64_t>& rb, const SkvdOptions& o, std::uint64_t seed,
                              std::uint64_t stream) {
  const std::int64_t n = static_cast<std::int64_t>(ra.size());
  if (o.subsets == 1 && (o.subset_size == 0 || o.subset_size >= n)) return {mmd2_rows(a, ra, b, rb)};
  const std::int64_t size = o.subset_size == 0 ? n : std::min(o.subset_size, n);
  EPE_CHECK(size >= 2, "option --skvd-subset-size must be >= 2");
  std::vector<double> v;
  for (int s = 0; s < o.subsets; ++s) {
    Rng rng(seed, stream + static_cast<std::uint64_t>(s));
    std::vector<std::int64_t> sa, sb;
    for (std::int64_t k : rng.sample_without_replacement(n, size)) {
      sa.push_back(ra[static_cast<std::size_t>(k)]);
      sb.push_back(rb[static_cast<std::size_t>(k)]);
    }
    v.push_back(mmd2_rows(a, sa, b, sb));
  }
  return v;
}

}  // namespace

SkvdResult skvd(const SkvdCrops& real, const SkvdCrops& fake, const SkvdOptions& o, std::uint64_t seed) {
  const int cells = o.grid * o.grid;
  SkvdResult r;
  // feamgan: real crops query the fake pool (kvdEval's argument order); epe: fake query real.
  const bool real_queries = o.feamgan();
  const SkvdCrops& q = real_queries ? real : fake;
  const SkvdCrops& p = real_queries ? fake : real;
  r.candidates = q.features.n;
  const Pairs pairs = pair_by_labels(q.grids.data(), q.features.n, p.grids.data(), p.features.n, cells, o.threshold);
  const std::vector<std::int64_t>& kf = real_queries ? pairs.pool : pairs.query;
  const std::vector<std::int64_t>& kr = real_queries ? pairs.query : pairs.pool;
  r.pairs = static_cast<std::int64_t>(kf.size());
  EPE_CHECK(r.pairs >= 2, "sKVD: only ", r.pairs, " of ", r.candidates, " ", real_queries ? "real" : "fake",
            " crops have a crop of the other set whose labels agree on more than ", o.threshold,
            " of the grid; it needs at least 2 (more frames", o.feamgan() ? "" : " or --skvd-crops-per-frame", ")");
  const MeanStd m = mean_std(pair_mmds(fake.features, kf, real.features, kr, o, seed, 1000003));
  r.mean = m.mean;
  r.std = m.std;
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
  for (auto& [id, pr] : groups) {
    SkvdClass c;
    c.id = id;
    c.name = id == 255 ? "unlabeled" : universal_class_name(id);
    c.pairs = static_cast<std::int64_t>(pr.first.size());
    c.value = c.pairs >= 2 ? mmd2_rows(fake.features, pr.first, real.features, pr.second) : std::nan("");
    r.classes.push_back(c);
  }
  std::stable_sort(r.classes.begin(), r.classes.end(),
                   [](const SkvdClass& a, const SkvdClass& b) { return a.pairs > b.pairs; });
  return r;
}

CkvdResult ckvd(const SkvdCrops& real, const SkvdCrops& fake, const SkvdOptions& o, std::uint64_t seed) {
  const int cells = o.grid * o.grid;
  const auto& groups = ckvd_groups();
  EPE_CHECK(real.groups.size() == groups.size() && fake.groups.size() == groups.size(),
            "cKVD: the crops were extracted without their class groups");
  const bool real_queries = o.feamgan();
  CkvdResult r;
  std::vector<std::vector<double>> per_subset;  // [group with a value][subset]
  for (std::size_t k = 0; k < groups.size(); ++k) {
    const SkvdCrops::Group& gq = real_queries ? real.groups[k] : fake.groups[k];
    const SkvdCrops::Group& gp = real_queries ? fake.groups[k] : real.groups[k];
    const SkvdCrops& q = real_queries ? real : fake;
    const SkvdCrops& p = real_queries ? fake : real;
    if (gq.crops.empty()) continue;  // the group entered no query crop: FeaMGAN lists no value
    CkvdClass c;
    c.name = groups[k].name;
    c.candidates = static_cast<std::int64_t>(gq.crops.size());
    // The group's crops' grids (each crop's whole label grid, as FeaMGAN's descriptors).
    auto grids_of = [&](const SkvdCrops& s, const SkvdCrops::Group& g) {
      std::vector<std::uint8_t> v(g.crops.size() * static_cast<std::size_t>(cells));
      for (std::size_t i = 0; i < g.crops.size(); ++i)
        std::copy_n(s.grids.data() + g.crops[i] * cells, cells, v.data() + i * static_cast<std::size_t>(cells));
      return v;
    };
    const std::vector<std::uint8_t> qg = grids_of(q, gq), pg = grids_of(p, gp);
    const Pairs pairs = pair_by_labels(qg.data(), static_cast<std::int64_t>(gq.crops.size()), pg.data(),
                                       static_cast<std::int64_t>(gp.crops.size()), cells, o.threshold);
    c.pairs = static_cast<std::int64_t>(pairs.query.size());
    if (c.pairs >= 2) {
      const auto& fg = real_queries ? gp : gq;
      const auto& rg = real_queries ? gq : gp;
      const auto& kf = real_queries ? pairs.pool : pairs.query;
      const auto& kr = real_queries ? pairs.query : pairs.pool;
      const std::vector<double> v = pair_mmds(fg.features, kf, rg.features, kr, o, seed, 2000003 + 1000 * k);
      const MeanStd m = mean_std(v);
      c.mean = m.mean;
      c.std = m.std;
      per_subset.push_back(v);
    } else {
      c.mean = c.std = std::nan("");
    }
    r.classes.push_back(c);
  }
  r.groups = static_cast<int>(per_subset.size());
  EPE_CHECK(r.groups >= 1, "cKVD: no class group has 2 or more crop pairs whose labels agree on more than ",
            o.threshold, " of the grid (more frames, or --skvd-threshold)");
  const std::size_t n_sub = per_subset.front().size();
  std::vector<double> all(n_sub, 0.0);
  for (const auto& v : per_subset)
    for (std::size_t s = 0; s < n_sub; ++s) all[s] += v[s] / double(per_subset.size());
  const MeanStd m = mean_std(all);
  r.mean = m.mean;
  r.std = m.std;
  return r;
}

std::string describe_skvd(const SkvdOptions& s, const CropPlan& plan) {
  const std::string subsets = s.subsets == 1
                                  ? std::string("one MMD² over all kept pairs")
                                  : cat(s.subsets, " subsets of ",
                                        s.subset_size ? std::to_string(s.subset_size) : "all", " pairs (mean ± std)");
  if (s.feamgan())
    return cat("FeaMGAN's protocol: frames scaled to ", plan.height,
               " rows (PIL bicubic, 8-bit) and centre-cropped to ", plan.height, "x", plan.width,
               "; step s reads fake frame s and real frame s mod n_real",
               s.every > 1 ? cat(", every ", s.every, "th step evaluated") : std::string(), "; one crop of side ",
               plan.side, " per frame at centres from numpy default_rng(", s.feamgan_seed,
               "); labels nearest-sampled on ", s.grid, "x", s.grid,
               "; each real crop paired with the fake crop of most "
               "equal labels, kept when more than ",
               s.threshold, " agree; VGG-16 ", s.layer, " ", s.pool == FeaturePool::none ? "flattened" : "mean-pooled",
               "; ", subsets);
  return cat("epe protocol: frames scaled to cover and centre-cropped to ", plan.height, "x", plan.width, " (OpenCV); ",
             s.crops_per_frame, " seeded crop(s) of side ", plan.side, " per frame; labels at the centres of ", s.grid,
             "x", s.grid, " cells; each fake crop paired with the real crop of most equal labels, kept when more than ",
             s.threshold, " agree; VGG-16 ", s.layer, " ", s.pool == FeaturePool::none ? "flattened" : "mean-pooled",
             "; ", subsets);
}

}  // namespace epe
