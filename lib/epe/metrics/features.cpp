#include "epe/metrics/features.h"

#include <torch/script.h>
#include <torch/torch.h>

#include <algorithm>
#include <filesystem>
#include <mutex>
#include <opencv2/imgproc.hpp>

#include "epe/core/error.h"
#include "epe/core/log.h"
#include "epe/core/options.h"
#include "epe/core/progress.h"
#include "epe/core/sha256.h"
#include "epe/core/thread_pool.h"
#include "epe/io/file_list.h"
#include "epe/io/h5.h"
#include "epe/io/image.h"
#include "epe/metrics/feature_store.h"
#include "epe/metrics/resize.h"
#include "epe/nn/convert.h"
#include "epe/nn/device.h"
#include "epe/nn/vgg16.h"

namespace fs = std::filesystem;

namespace epe {

cv::Mat resize_image(const cv::Mat& m, int h, int w) {
  return resize_frame(m, h, w, ResizeMode::opencv);
}

cv::Mat fill_and_crop(const cv::Mat& m, int h, int w, bool nearest) {
  const double scale = std::max(double(h) / m.rows, double(w) / m.cols);
  const int sh = std::max(h, static_cast<int>(std::lround(m.rows * scale)));
  const int sw = std::max(w, static_cast<int>(std::lround(m.cols * scale)));
  cv::Mat scaled;
  if (nearest)
    cv::resize(m, scaled, {sw, sh}, 0, 0, cv::INTER_NEAREST);
  else
    scaled = resize_image(m, sh, sw);
  return scaled(cv::Rect((sw - w) / 2, (sh - h) / 2, w, h)).clone();
}

namespace {
// The resize mode as extractor descriptions (cache keys, reports) name it; `opencv` keeps its
// first name so that caches made before --resize existed stay valid.
std::string resize_text(ResizeMode mode) {
  return mode == ResizeMode::opencv ? "area-or-bicubic" : to_string(mode);
}
}  // namespace

const Choices<InceptionRange>& inception_ranges() {
  static const Choices<InceptionRange> c{{"0-255", InceptionRange::u8}, {"0-1", InceptionRange::unit}};
  return c;
}

const Choices<FeaturePool>& feature_pools() {
  static const Choices<FeaturePool> c{{"mean", FeaturePool::mean}, {"none", FeaturePool::none}};
  return c;
}

void ExtractorOptions::check() const {
  EPE_CHECK(inception_size >= 32 && inception_size <= 2048, "option --inception-size must be in 32..2048");
  nn::vgg16_tap_index(vgg_tap);
  if (vgg_size != "native") parse_hw(vgg_size, "--kvd-size", 4096);
  EPE_CHECK(batch >= 1, "option --batch must be >= 1");
  nn::parse_device(device);
}

namespace {

// Decodes images [begin, end) of a set on a thread pool, each through `prep` (float RGB [0,1]
// -> CV_32FC3 of the batch's common size), and returns them as an [n, 3, h, w] tensor.
torch::Tensor load_batch(const ImageSet& set, std::size_t begin, std::size_t end, ThreadPool& pool,
                         const std::function<cv::Mat(const cv::Mat&)>& prep) {
  std::vector<cv::Mat> frames(end - begin);
  pool.parallel_for(frames.size(), [&](std::size_t i) {
    try {
      frames[i] = prep(read_image(set.images[begin + i]));
    } catch (const UserError& e) {
      throw UserError(cat(set.where(begin + i), ": ", e.what()));
    }
  });
  const int h = frames[0].rows, w = frames[0].cols;
  torch::Tensor x = torch::empty({static_cast<std::int64_t>(frames.size()), 3, h, w}, torch::kFloat32);
  for (std::size_t i = 0; i < frames.size(); ++i) {
    EPE_CHECK(frames[i].rows == h && frames[i].cols == w, set.where(begin + i), ": image is ", frames[i].rows, "x",
              frames[i].cols, " but the others in its batch are ", h, "x", w,
              " (give a fixed --kvd-size instead of native)");
    x[static_cast<std::int64_t>(i)].copy_(nn::image_to_tensor(frames[i]));
  }
  return x;
}

// The batches [b, e) of an extraction of images [begin, end) of a set of n: those of the whole
// set's extraction (b a multiple of `batch`) that hold any of them.
std::vector<std::pair<std::size_t, std::size_t>> batches(std::size_t n, std::size_t begin, std::size_t end,
                                                         std::size_t batch) {
  EPE_ASSERT(begin <= end && end <= n, "extract_rows: rows [", begin, ", ", end, ") of ", n);
  std::vector<std::pair<std::size_t, std::size_t>> out;
  for (std::size_t b = begin / batch * batch; b < end; b += batch) out.emplace_back(b, std::min(n, b + batch));
  return out;
}

class InceptionExtractor : public FeatureExtractor {
 public:
  explicit InceptionExtractor(const ExtractorOptions& o) : o_(o), device_(nn::parse_device(o.device)) {
    EPE_CHECK(
        !o.inception.empty(),
        "FID and KID need --inception MODEL.pt: a TorchScript Inception (see the README, 'Inception for FID/KID')");
    try {
      model_ = torch::jit::load(o.inception, device_);
    } catch (const std::exception& e) {
      std::string what = e.what();
      throw UserError(cat("'", o.inception, "' is not a TorchScript model: ", what.substr(0, what.find('\n'))));
    }
    model_.eval();
    const auto& args = model_.get_method("forward").function().getSchema().arguments();
    // args[0] is self; NVlabs' / clean-fid's Inception has forward(img, return_features=False, ...)
    return_features_ = args.size() >= 3 && args[2].name() == "return_features";
    provenance_ = cat(fs::path(o.inception).filename().string(), " sha256:", sha256_file(o.inception));
  }
  std::string name() const override { return "inception"; }
  std::string description() const override {
    return cat("inception ", provenance_, " size=", o_.inception_size,
               " range=", choice_name(inception_ranges(), o_.inception_range), " resize=", resize_text(o_.resize),
               return_features_ ? " return_features=1" : "");
  }
  FeatureMatrix extract_rows(const ImageSet& set, std::size_t begin, std::size_t end, Progress* progress) override {
    torch::NoGradGuard no_grad;
    ThreadPool pool(o_.threads > 0 ? std::size_t(o_.threads) : 0);
    FeatureMatrix f;
    f.n = static_cast<std::int64_t>(end - begin);
    const int s = o_.inception_size;
    const double mul = o_.inception_range == InceptionRange::u8 ? 255.0 : 1.0;
    for (const auto& [b, e] : batches(set.images.size(), begin, end, std::size_t(o_.batch))) {
      const ResizeMode mode = o_.resize;
      torch::Tensor x =
          load_batch(set, b, e, pool, [s, mode](const cv::Mat& m) { return resize_frame(m, s, s, mode); });
      x = (x * mul).to(device_);
      torch::Tensor y;
      try {
        y = (return_features_ ? model_.forward({x, torch::jit::IValue(true)}) : model_.forward({x})).toTensor();
      } catch (const std::exception& ex) {
        std::string what = ex.what();
        throw UserError(cat("Inception model '", o_.inception, "' failed on a [", x.size(0), ", 3, ", s, ", ", s,
                            "] input (it must return [N, D] features): ", what.substr(0, what.find('\n'))));
      }
      y = y.reshape({y.size(0), -1}).to(torch::kCPU, torch::kFloat32).contiguous();
      append(f, y, set, b, begin, end);
      if (progress) progress->add(static_cast<std::int64_t>(std::min(e, end) - std::max(b, begin)));
    }
    return f;
  }

 private:
  ExtractorOptions o_;
  c10::Device device_;
  torch::jit::Module model_;
  bool return_features_ = false;
  std::string provenance_;

 public:
  // Appends the rows of batch `y` (images b, b+1, ... of `set`) that lie in [begin, end).
  static void append(FeatureMatrix& f, const torch::Tensor& y, const ImageSet& set, std::size_t b, std::size_t begin,
                     std::size_t end) {
    if (f.d == 0) {
      f.d = static_cast<int>(y.size(1));
      f.data.reserve(static_cast<std::size_t>(f.n) * f.d);
    }
    EPE_CHECK(y.size(1) == f.d, set.where(b), ": the model returned ", y.size(1), " features, earlier images ", f.d);
    const std::size_t first = std::max(b, begin) - b, last = std::min(b + std::size_t(y.size(0)), end) - b;
    const float* p = y.data_ptr<float>() + first * std::size_t(f.d);
    const std::size_t count = (last - first) * std::size_t(f.d);
    for (std::size_t i = 0; i < count; ++i)
      EPE_CHECK(std::isfinite(p[i]), set.where(b + first + i / std::size_t(f.d)),
                ": the model returned a non-finite feature");
    f.data.insert(f.data.end(), p, p + count);
  }
};

class VggExtractor : public FeatureExtractor {
 public:
  VggExtractor(const ExtractorOptions& o, std::shared_ptr<nn::Vgg16> net)
      : o_(o), device_(nn::parse_device(o.device)), vgg_(net ? std::move(net) : make_metrics_vgg(o)) {
    random_init = vgg_->random_init();
    tap_ = nn::vgg16_tap_index(o.vgg_tap);
    if (o.vgg_size != "native") size_ = parse_hw(o.vgg_size, "--kvd-size", 4096);
  }
  std::string name() const override { return "vgg"; }
  std::string description() const override {
    return cat("vgg16 ", vgg_->provenance(), " tap=", o_.vgg_tap, " pool=", choice_name(feature_pools(), o_.vgg_pool),
               " size=", o_.vgg_size, " norm=imagenet padding=zeros resize=", resize_text(o_.resize));
  }
  FeatureMatrix extract_rows(const ImageSet& set, std::size_t begin, std::size_t end, Progress* progress) override {
    torch::NoGradGuard no_grad;
    ThreadPool pool(o_.threads > 0 ? std::size_t(o_.threads) : 0);
    FeatureMatrix f;
    f.n = static_cast<std::int64_t>(end - begin);
    const auto size = size_;
    const bool native = o_.vgg_size == "native";
    const std::size_t batch = native ? 1 : std::size_t(o_.batch);
    for (const auto& [b, e] : batches(set.images.size(), begin, end, batch)) {
      const ResizeMode mode = o_.resize;
      torch::Tensor x = load_batch(set, b, e, pool, [size, native, mode](const cv::Mat& m) {
        return native ? m : resize_frame(m, size.first, size.second, mode);
      });
      torch::Tensor y = (*vgg_).forward(nn::normalize(x, nn::Normalization::imagenet()).to(device_), tap_);
      y = o_.vgg_pool == FeaturePool::mean ? y.mean({2, 3}) : y.reshape({y.size(0), -1});
      y = y.to(torch::kCPU, torch::kFloat32).contiguous();
      InceptionExtractor::append(f, y, set, b, begin, end);
      if (progress) progress->add(static_cast<std::int64_t>(std::min(e, end) - std::max(b, begin)));
    }
    return f;
  }
  nn::Vgg16& net() { return *vgg_; }

 private:
  ExtractorOptions o_;
  c10::Device device_;
  std::shared_ptr<nn::Vgg16> vgg_;
  int tap_ = 0;
  std::pair<int, int> size_{224, 224};
};

}  // namespace

std::unique_ptr<FeatureExtractor> make_inception_extractor(const ExtractorOptions& o) {
  o.check();
  return std::make_unique<InceptionExtractor>(o);
}

std::shared_ptr<nn::Vgg16> make_metrics_vgg(const ExtractorOptions& o) {
  nn::Vgg16Options vo;
  vo.weights = o.vgg;
  vo.seed = o.seed;
  vo.padding = nn::Padding::zeros;
  auto vgg = std::make_shared<nn::Vgg16>(vo);
  vgg->to(nn::parse_device(o.device));
  return vgg;
}

std::unique_ptr<FeatureExtractor> make_vgg_extractor(const ExtractorOptions& o, std::shared_ptr<nn::Vgg16> net) {
  o.check();
  return std::make_unique<VggExtractor>(o, std::move(net));
}

std::string feature_cache_key(const FeatureExtractor& ex, const ImageSet& set) {
  return sha256_hex(set.checksum + "\n" + ex.description());
}

std::string feature_cache_path(const std::string& cache_dir, const std::string& extractor, const std::string& key) {
  return (fs::path(cache_dir) / cat(extractor, "-", key.substr(0, 16), ".h5")).string();
}

FeatureMatrix cached_features(FeatureExtractor& ex, const ImageSet& set, const std::string& cache_dir, bool* hit,
                              Progress* progress) {
  if (hit) *hit = false;
  const std::string key = feature_cache_key(ex, set);
  std::string path;
  if (!cache_dir.empty()) {
    fs::create_directories(cache_dir);
    path = feature_cache_path(cache_dir, ex.name(), key);
    if (fs::exists(path)) {
      try {
        std::lock_guard<std::mutex> lock(h5::h5_mutex());
        H5::H5File f = h5::open_store(path, kFeatureStoreFormat, kFeatureStoreVersion);
        if (h5::attr_string(f, "key") == key) {
          std::vector<hsize_t> dims;
          FeatureMatrix m;
          m.data = h5::read<float>(f, "/features", &dims);
          if (dims.size() == 2 && dims[0] == set.images.size()) {
            m.n = static_cast<std::int64_t>(dims[0]);
            m.d = static_cast<int>(dims[1]);
            if (hit) *hit = true;
            if (progress) progress->add(m.n);
            return m;
          }
        }
      } catch (const UserError& e) {
        log_warn("feature cache '", path, "' is unreadable (", e.what(), "); recomputing it");
      }
    }
  }
  FeatureMatrix m = ex.extract(set, progress);
  if (!path.empty()) {
    FeatureStoreInfo info;
    info.key = key;
    info.source = set.source;
    info.set_checksum = set.checksum;
    info.extractor = ex.description();
    info.name = ex.name();
    write_feature_store(path, info, m, set.images);
  }
  return m;
}

}  // namespace epe
