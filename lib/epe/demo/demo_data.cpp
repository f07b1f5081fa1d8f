#include "epe/demo/demo_data.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <opencv2/imgproc.hpp>

#include "epe/core/atomic_file.h"
#include "epe/core/error.h"
#include "epe/core/progress.h"
#include "epe/core/rng.h"
#include "epe/core/stage_options.h"
#include "epe/core/thread_pool.h"
#include "epe/core/timer.h"
#include "epe/io/classes.h"
#include "epe/io/file_list.h"
#include "epe/io/gbuffers.h"
#include "epe/io/image.h"
#include "epe/io/materials.h"

namespace fs = std::filesystem;

namespace epe {

void DemoOptions::check() const {
  EPE_CHECK(!out.empty(), "option --out is required");
  EPE_CHECK(images >= 1 && images <= 100000, "option --images: ", images, " is outside 1..100000");
  EPE_CHECK(height >= 32 && height <= 8192, "option --height: ", height, " is outside 32..8192");
  EPE_CHECK(width >= 32 && width <= 8192, "option --width: ", width, " is outside 32..8192");
  EPE_CHECK(threads >= 0, "option --threads: must be >= 0");
}

const MaterialTable& demo_material_table() {
  static const MaterialTable t = MaterialTable::read(default_material_table());
  return t;
}

const std::vector<std::string>& demo_gbuffer_channels() {
  static const std::vector<std::string> names = {"depth",    "normal.x", "normal.y", "normal.z",
                                                 "albedo.r", "albedo.g", "albedo.b", "material"};
  return names;
}

namespace {

// How the two demo datasets differ (documented in data/README.md).
struct SceneStyle {
  double horizon, horizon_jitter;  // horizon row as a fraction of the height
  int trees_min, trees_max;        // trees per frame
  double trees_right;              // probability that a tree stands on the right
  int cars_min, cars_max;          // cars per frame
  bool cars_parked;                // parked at the right kerb (real) or driving in the lanes
  int people_min, people_max;
  int poles_min, poles_max;
  bool grass_verge;                   // terrain strip beyond the sidewalk
  double building_min, building_max;  // building heights in metres
};

const SceneStyle kSynthetic = {0.40, 0.03, 3, 6, 0.5, 2, 4, false, 0, 1, 1, 2, true, 8, 16};
const SceneStyle kReal = {0.52, 0.03, 0, 2, 0.8, 1, 3, true, 1, 4, 1, 3, false, 12, 30};

constexpr double kCamHeight = 1.5;  // metres
constexpr double kRoadHalf = 4.0, kWalkOuter = 7.0, kFacade = 10.0;
constexpr float kSkyDepth = 1000.f;

struct Canvas {
  int h, w;
  double f, cx, hz;
  cv::Mat label, depth, normal, albedo;  // u8, f32, 3f, 3f

  Canvas(int h_, int w_, double hz_) : h(h_), w(w_), f(0.8 * w_), cx(0.5 * w_), hz(hz_) {
    label = cv::Mat(h, w, CV_8UC1, cv::Scalar(cs::sky));
    depth = cv::Mat(h, w, CV_32FC1, cv::Scalar(kSkyDepth));
    normal = cv::Mat(h, w, CV_32FC3, cv::Scalar(0, 0, -1));
    albedo = cv::Mat(h, w, CV_32FC3, cv::Scalar(0, 0, 0));
  }
  void put(int r, int c, int lab, float z, cv::Vec3f n, cv::Vec3f a) {
    if (z >= depth.at<float>(r, c)) return;
    label.at<std::uint8_t>(r, c) = static_cast<std::uint8_t>(lab);
    depth.at<float>(r, c) = z;
    normal.at<cv::Vec3f>(r, c) = n;
    albedo.at<cv::Vec3f>(r, c) = a;
  }
  double row_of(double y, double z) const { return hz + f * (kCamHeight - y) / z; }
  double col_of(double x, double z) const { return cx + f * x / z; }
};

cv::Vec3f jitter(Rng& rng, cv::Vec3f base, double amount) {
  cv::Vec3f v;
  for (int i = 0; i < 3; ++i) v[i] = static_cast<float>(std::clamp(base[i] + rng.uniform(-amount, amount), 0.0, 1.0));
  return v;
}

void draw_sky(Canvas& cv_, bool real) {
  for (int r = 0; r < cv_.h; ++r) {
    double t = std::clamp(r / std::max(1.0, cv_.hz), 0.0, 1.0);
    cv::Vec3f top = real ? cv::Vec3f(0.45f, 0.58f, 0.78f) : cv::Vec3f(0.20f, 0.45f, 0.90f);
    cv::Vec3f bottom = real ? cv::Vec3f(0.80f, 0.84f, 0.88f) : cv::Vec3f(0.65f, 0.80f, 0.98f);
    cv::Vec3f c = top * static_cast<float>(1 - t) + bottom * static_cast<float>(t);
    for (int col = 0; col < cv_.w; ++col) cv_.albedo.at<cv::Vec3f>(r, col) = c;
  }
}

void draw_ground(Canvas& c, const SceneStyle& st, Rng& rng) {
  cv::Vec3f road = jitter(rng, {0.33f, 0.33f, 0.35f}, 0.04), walk = jitter(rng, {0.62f, 0.58f, 0.52f}, 0.05),
            grass = jitter(rng, {0.30f, 0.45f, 0.18f}, 0.05), mark(0.92f, 0.92f, 0.90f);
  for (int r = 0; r < c.h; ++r) {
    double dy = r + 0.5 - c.hz;
    if (dy <= 0) continue;
    double z = c.f * kCamHeight / dy;
    for (int col = 0; col < c.w; ++col) {
      double x = (col + 0.5 - c.cx) * z / c.f;
      double ax = std::abs(x);
      int lab;
      cv::Vec3f a;
      if (ax < kRoadHalf) {
        lab = cs::road;
        a = (ax < 0.12 && std::fmod(z, 6.0) < 3.0) ? mark : road;
      } else if (ax < kWalkOuter || !st.grass_verge) {
        lab = cs::sidewalk;
        a = walk;
      } else {
        lab = cs::terrain;
        a = grass;
      }
      c.put(r, col, lab, static_cast<float>(std::min<double>(z, kSkyDepth - 1)), {0, 1, 0}, a);
    }
  }
}

void draw_facades(Canvas& c, const SceneStyle& st, Rng& rng) {
  for (int side : {-1, 1}) {
    struct Building {
      double z0, z1, height;
      cv::Vec3f colour;
    };
    std::vector<Building> bs;
    for (double z = 3 + rng.uniform(0, 4); z < 200;) {
      double len = rng.uniform(8, 25);
      bs.push_back(
          {z, z + len, rng.uniform(st.building_min, st.building_max), jitter(rng, {0.55f, 0.50f, 0.45f}, 0.2)});
      z += len + (rng.bernoulli(0.3) ? rng.uniform(2, 6) : 0.0);
    }
    cv::Vec3f n(static_cast<float>(-side), 0, 0);
    for (int col = 0; col < c.w; ++col) {
      double dx = col + 0.5 - c.cx;
      if (dx * side <= 0.5) continue;
      double z = c.f * kFacade / std::abs(dx);
      const Building* b = nullptr;
      for (auto& cand : bs)
        if (z >= cand.z0 && z < cand.z1) b = &cand;
      if (!b) continue;
      int r0 = std::max(0, static_cast<int>(std::floor(c.row_of(b->height, z))));
      int r1 = std::min(c.h - 1, static_cast<int>(std::ceil(c.row_of(0, z))));
      for (int r = r0; r <= r1; ++r) {
        double y = kCamHeight - (r + 0.5 - c.hz) * z / c.f;
        if (y < 0 || y > b->height) continue;
        bool window = std::fmod(z - b->z0, 3.0) > 0.8 && std::fmod(z - b->z0, 3.0) < 2.2 && std::fmod(y, 3.0) > 1.0 &&
                      std::fmod(y, 3.0) < 2.2 && y > 2.5;
        cv::Vec3f a = window ? b->colour * 0.35f : b->colour;
        c.put(r, col, cs::building, static_cast<float>(z), n, a);
      }
    }
  }
}

// A world-space primitive of a billboard object standing at (x, z).
struct Prim {
  bool ellipse;
  double x0, x1, y0, y1;  // metres relative to the object's base (ellipse: bounding box)
  int label;
  cv::Vec3f albedo;
  bool sphere_normal;
};

void draw_object(Canvas& c, double x, double z, const std::vector<Prim>& prims) {
  if (z < 1.0) return;
  for (const auto& p : prims) {
    int c0 = std::max(0, static_cast<int>(std::floor(c.col_of(x + p.x0, z))));
    int c1 = std::min(c.w - 1, static_cast<int>(std::ceil(c.col_of(x + p.x1, z))));
    int r0 = std::max(0, static_cast<int>(std::floor(c.row_of(p.y1, z))));
    int r1 = std::min(c.h - 1, static_cast<int>(std::ceil(c.row_of(p.y0, z))));
    double mx = 0.5 * (p.x0 + p.x1), my = 0.5 * (p.y0 + p.y1), rx = 0.5 * (p.x1 - p.x0), ry = 0.5 * (p.y1 - p.y0);
    for (int r = r0; r <= r1; ++r) {
      double y = kCamHeight - (r + 0.5 - c.hz) * z / c.f;
      for (int col = c0; col <= c1; ++col) {
        double wx = (col + 0.5 - c.cx) * z / c.f - x;
        if (wx < p.x0 || wx > p.x1 || y < p.y0 || y > p.y1) continue;
        double u = (wx - mx) / rx, v = (y - my) / ry;
        if (p.ellipse && u * u + v * v > 1) continue;
        cv::Vec3f n(0, 0, -1);
        if (p.sphere_normal) {
          double q = std::sqrt(std::max(0.0, 1 - u * u - v * v));
          n = cv::Vec3f(static_cast<float>(u), static_cast<float>(v), static_cast<float>(-q));
        }
        c.put(r, col, p.label, static_cast<float>(z - 0.01 * (p.sphere_normal ? 1 : 0)), n, p.albedo);
      }
    }
  }
}

std::vector<Prim> car_prims(Rng& rng) {
  cv::Vec3f paint(static_cast<float>(rng.uniform()), static_cast<float>(rng.uniform()),
                  static_cast<float>(rng.uniform()));
  return {{false, -0.9, 0.9, 0.3, 1.0, cs::car, paint, false},
          {false, -0.75, 0.75, 1.0, 1.45, cs::car, {0.15f, 0.18f, 0.22f}, false},
          {true, -0.85, -0.35, 0.0, 0.55, cs::car, {0.05f, 0.05f, 0.05f}, false},
          {true, 0.35, 0.85, 0.0, 0.55, cs::car, {0.05f, 0.05f, 0.05f}, false}};
}

std::vector<Prim> person_prims(Rng& rng) {
  cv::Vec3f shirt = jitter(rng, {0.5f, 0.4f, 0.4f}, 0.4), trousers = jitter(rng, {0.2f, 0.2f, 0.3f}, 0.15);
  return {{false, -0.15, 0.15, 0.0, 0.9, cs::person, trousers, false},
          {false, -0.22, 0.22, 0.9, 1.5, cs::person, shirt, false},
          {true, -0.12, 0.12, 1.5, 1.78, cs::person, {0.85f, 0.7f, 0.6f}, true}};
}

std::vector<Prim> tree_prims(Rng& rng) {
  double radius = rng.uniform(1.2, 2.4), trunk = rng.uniform(2.0, 3.0);
  return {{false, -0.15, 0.15, 0.0, trunk + 0.3, cs::vegetation, {0.35f, 0.25f, 0.15f}, false},
          {true, -radius, radius, trunk, trunk + 1.8 * radius, cs::vegetation, jitter(rng, {0.2f, 0.5f, 0.15f}, 0.08),
           true}};
}

std::vector<Prim> pole_prims(Rng& rng) {
  cv::Vec3f sign = rng.bernoulli(0.5) ? cv::Vec3f(0.8f, 0.1f, 0.1f) : cv::Vec3f(0.1f, 0.25f, 0.75f);
  return {{false, -0.06, 0.06, 0.0, 4.0, cs::pole, {0.45f, 0.45f, 0.45f}, false},
          {false, -0.35, 0.35, 3.2, 3.9, cs::traffic_sign, sign, false}};
}

// Low-frequency noise in [-1, 1]: a coarse random grid resized smoothly to h×w.
cv::Mat smooth_noise(Rng& rng, int h, int w, int cell) {
  int gh = std::max(2, h / cell + 2), gw = std::max(2, w / cell + 2);
  cv::Mat g(gh, gw, CV_32FC1);
  for (int r = 0; r < gh; ++r)
    for (int c = 0; c < gw; ++c) g.at<float>(r, c) = static_cast<float>(rng.uniform(-1, 1));
  cv::Mat out;
  cv::resize(g, out, cv::Size(w, h), 0, 0, cv::INTER_CUBIC);
  return out;
}

// Surface texture, a factor around 1 per pixel: coarse blotches (24-px cells) and fine grain
// (3-px cells), weaker and without grain on the sky. Both sets draw it with the same statistics:
// the synthetic set in its albedo (a game's materials are textured, and its G-buffer shows it),
// the real set in photograph(). The synthetic texture is optional (DemoOptions::synthetic_texture):
// a convolutional generator without a noise input cannot make random texture on flat surfaces,
// so untextured game frames ask the enhancer for something it cannot do (issue 15's diagnosis).
cv::Mat texture(Rng& rng, const cv::Mat& labels) {
  const int h = labels.rows, w = labels.cols;
  cv::Mat coarse = smooth_noise(rng, h, w, 24), fine = smooth_noise(rng, h, w, 3);
  cv::Mat tex(h, w, CV_32FC1);
  for (int r = 0; r < h; ++r)
    for (int c = 0; c < w; ++c) {
      bool sky = labels.at<std::uint8_t>(r, c) == cs::sky;
      tex.at<float>(r, c) =
          1.f + (sky ? 0.04f : 0.15f) * coarse.at<float>(r, c) + (sky ? 0.f : 0.10f) * fine.at<float>(r, c);
    }
  return tex;
}

struct Placed {
  double x, z;
  std::vector<Prim> prims;
};

DemoFrame render(const SceneStyle& st, bool real, bool synthetic_texture, int h, int w, Rng& rng) {
  double hz = h * (st.horizon + rng.uniform(-st.horizon_jitter, st.horizon_jitter));
  Canvas c(h, w, hz);
  draw_sky(c, real);
  draw_ground(c, st, rng);
  draw_facades(c, st, rng);

  std::vector<Placed> objs;
  int n_trees = static_cast<int>(rng.uniform_int(st.trees_min, st.trees_max));
  for (int i = 0; i < n_trees; ++i) {
    int side = rng.bernoulli(st.trees_right) ? 1 : -1;
    objs.push_back({side * rng.uniform(kWalkOuter - 1.5, kWalkOuter + 1.0), rng.uniform(6, 35), tree_prims(rng)});
  }
  int n_cars = static_cast<int>(rng.uniform_int(st.cars_min, st.cars_max));
  for (int i = 0; i < n_cars; ++i) {
    double x = st.cars_parked ? rng.uniform(kRoadHalf - 1.3, kRoadHalf - 0.9) : rng.uniform(-2.2, 2.2);
    objs.push_back({x, rng.uniform(st.cars_parked ? 5 : 8, 40), car_prims(rng)});
  }
  int n_people = static_cast<int>(rng.uniform_int(st.people_min, st.people_max));
  for (int i = 0; i < n_people; ++i) {
    int side = rng.bernoulli(0.5) ? 1 : -1;
    objs.push_back({side * rng.uniform(kRoadHalf + 0.5, kWalkOuter - 0.5), rng.uniform(4, 30), person_prims(rng)});
  }
  int n_poles = static_cast<int>(rng.uniform_int(st.poles_min, st.poles_max));
  for (int i = 0; i < n_poles; ++i) {
    int side = rng.bernoulli(0.5) ? 1 : -1;
    objs.push_back({side * (kRoadHalf + 0.4), rng.uniform(6, 40), pole_prims(rng)});
  }
  std::stable_sort(objs.begin(), objs.end(), [](const Placed& a, const Placed& b) { return a.z > b.z; });
  for (auto& o : objs) draw_object(c, o.x, o.z, o.prims);

  // Drawn after the scene, so that the real frames (which take their texture in photograph())
  // are the same as before synthetic texture existed.
  if (!real && synthetic_texture) {
    cv::Mat tex = texture(rng, c.label);
    for (int r = 0; r < h; ++r)
      for (int col = 0; col < w; ++col) {
        cv::Vec3f& a = c.albedo.at<cv::Vec3f>(r, col);
        for (int k = 0; k < 3; ++k) a[k] = std::clamp(a[k] * tex.at<float>(r, col), 0.f, 1.f);
      }
  }

  DemoFrame fr;
  fr.gt_labels = c.label;
  // Flat shading from the G-buffers (the sky is emissive).
  const cv::Vec3f light = cv::normalize(cv::Vec3f(-0.4f, 0.8f, -0.45f));
  fr.image = cv::Mat(h, w, CV_32FC3);
  std::vector<cv::Mat> gb(8);
  for (auto& m : gb) m = cv::Mat(h, w, CV_32FC1);
  const MaterialTable& materials = demo_material_table();
  for (int r = 0; r < h; ++r)
    for (int col = 0; col < w; ++col) {
      int lab = c.label.at<std::uint8_t>(r, col);
      cv::Vec3f n = c.normal.at<cv::Vec3f>(r, col), a = c.albedo.at<cv::Vec3f>(r, col);
      float shade = lab == cs::sky ? 1.f : 0.35f + 0.65f * std::max(0.f, n.dot(light));
      fr.image.at<cv::Vec3f>(r, col) = a * shade;
      gb[0].at<float>(r, col) = c.depth.at<float>(r, col);
      for (int k = 0; k < 3; ++k) gb[1 + k].at<float>(r, col) = n[k];
      for (int k = 0; k < 3; ++k) gb[4 + k].at<float>(r, col) = a[k];
      gb[7].at<float>(r, col) = static_cast<float>(materials.of_id[lab]);
    }
  cv::merge(gb, fr.gbuffers);
  return fr;
}

// Photographic look: texture, colour grading, lens blur, vignetting, sensor noise.
void photograph(DemoFrame& fr, Rng& rng) {
  const int h = fr.image.rows, w = fr.image.cols;
  cv::Mat tex = texture(rng, fr.gt_labels);
  cv::Vec3f gain(static_cast<float>(rng.uniform(1.02, 1.10)), 1.0f, static_cast<float>(rng.uniform(0.82, 0.92)));
  double gamma = rng.uniform(0.8, 0.95);
  for (int r = 0; r < h; ++r)
    for (int c = 0; c < w; ++c) {
      cv::Vec3f& p = fr.image.at<cv::Vec3f>(r, c);
      for (int k = 0; k < 3; ++k) {
        float v = std::clamp(p[k] * tex.at<float>(r, c) * gain[k], 0.f, 1.f);
        p[k] = static_cast<float>(std::pow(v, gamma));
      }
    }
  cv::GaussianBlur(fr.image, fr.image, cv::Size(0, 0), 0.6 + 0.002 * w * 0.5);
  double cy = 0.5 * h, cx = 0.5 * w, norm = cx * cx + cy * cy;
  for (int r = 0; r < h; ++r)
    for (int c = 0; c < w; ++c) {
      double d2 = ((r - cy) * (r - cy) + (c - cx) * (c - cx)) / norm;
      float v = static_cast<float>(1.0 - 0.35 * d2);
      cv::Vec3f& p = fr.image.at<cv::Vec3f>(r, c);
      for (int k = 0; k < 3; ++k) p[k] = std::clamp(p[k] * v + static_cast<float>(rng.normal(0, 0.015)), 0.f, 1.f);
    }
}

cv::Mat to_universal(const cv::Mat& cityscapes) {
  const auto& map = cityscapes_to_universal();
  cv::Mat lut(1, 256, CV_8UC1);
  for (int i = 0; i < 256; ++i) lut.at<std::uint8_t>(i) = static_cast<std::uint8_t>(map[i]);
  cv::Mat out;
  cv::LUT(cityscapes, lut, out);
  return out;
}

}  // namespace

DemoFrame render_demo_frame(bool real, int index, int height, int width, std::uint64_t seed, bool synthetic_texture) {
  Rng rng(seed, static_cast<std::uint64_t>(index) * 2 + (real ? 1 : 0));
  DemoFrame fr = render(real ? kReal : kSynthetic, real, synthetic_texture, height, width, rng);
  if (real) photograph(fr, rng);
  return fr;
}

DemoResult make_demo_data(const DemoOptions& opt, Progress* progress) {
  opt.check();
  Timer t0;
  cityscapes_to_universal();  // fail early when data/ is missing
  demo_material_table();
  {
    std::error_code ec;
    if (opt.force && fs::is_directory(opt.out, ec) && !fs::is_empty(opt.out, ec) &&
        !fs::exists(fs::path(opt.out) / "synthetic.csv", ec))
      throw UserError(cat("--out '", opt.out, "' is a folder that does not look like epe demo-data output (no ",
                          "synthetic.csv); --force only replaces earlier demo data"));
  }
  AtomicDir dir(opt.out, opt.force);
  const fs::path root = dir.temp_path();
  for (const char* sub : {"synthetic/images", "synthetic/robust_labels", "synthetic/gbuffers", "synthetic/gt_labels",
                          "real/images", "real/robust_labels"}) {
    std::error_code ec;
    fs::create_directories(root / sub, ec);
    EPE_CHECK(!ec, "cannot create '", (root / sub).string(), "': ", ec.message());
  }

  std::vector<std::vector<std::string>> syn_rows(opt.images), real_rows(opt.images);
  {
    ThreadPool pool(opt.threads > 0 ? opt.threads : 0);
    pool.parallel_for(static_cast<std::size_t>(opt.images), [&](std::size_t i) {
      char name[32];
      std::snprintf(name, sizeof name, "%04zu", i);
      DemoFrame s =
          render_demo_frame(false, static_cast<int>(i), opt.height, opt.width, opt.seed, opt.synthetic_texture);
      std::string img = (root / "synthetic/images" / (std::string(name) + ".png")).string();
      std::string rob = (root / "synthetic/robust_labels" / (std::string(name) + ".png")).string();
      std::string gbf = (root / "synthetic/gbuffers" / (std::string(name) + ".h5")).string();
      std::string gt = (root / "synthetic/gt_labels" / (std::string(name) + ".png")).string();
      write_png(img, s.image);
      write_png(rob, to_universal(s.gt_labels));
      write_png(gt, s.gt_labels);
      GBuffers g;
      g.height = opt.height;
      g.width = opt.width;
      g.channels = s.gbuffers.channels();
      g.names = demo_gbuffer_channels();
      g.data.assign(reinterpret_cast<const float*>(s.gbuffers.data),
                    reinterpret_cast<const float*>(s.gbuffers.data) + s.gbuffers.total() * g.channels);
      write_gbuffers(gbf, g);
      syn_rows[i] = {img, rob, gbf, gt};

      DemoFrame r = render_demo_frame(true, static_cast<int>(i), opt.height, opt.width, opt.seed);
      std::string rimg = (root / "real/images" / (std::string(name) + ".png")).string();
      std::string rrob = (root / "real/robust_labels" / (std::string(name) + ".png")).string();
      write_png(rimg, r.image);
      write_png(rrob, to_universal(r.gt_labels));
      real_rows[i] = {rimg, rrob};
      if (progress) progress->add(1);
    });
  }
  write_file_list((root / "synthetic.csv").string(), syn_rows);
  write_file_list((root / "real.csv").string(), real_rows);
  if (!opt.record.empty()) write_file_atomic((root / "options.ini").string(), opt.record);
  dir.commit();

  DemoResult res;
  res.synthetic_list = (fs::path(opt.out) / "synthetic.csv").string();
  res.real_list = (fs::path(opt.out) / "real.csv").string();
  res.images_per_set = opt.images;
  res.seconds = t0.seconds();
  return res;
}

void add_options(OptionSet& s, DemoOptions& o) {
  add_out_option(s, &o.out, "output folder");
  s.add("images,n", &o.images, "frames per set");
  s.add("height", &o.height, "frame height");
  s.add("width", &o.width, "frame width");
  s.add("seed", &o.seed, "random seed");
  s.add("synthetic-texture", &o.synthetic_texture,
        "texture the synthetic surfaces (albedo G-buffer too) with the real set's texture statistics");
  add_force_option(s, &o.force, "replace an existing output folder");
}

}  // namespace epe
