#pragma once
// Image sets and per-image feature extraction for `epe metrics` (docs/DESIGN.md §5.7), with a cache:
//   inception  a user-supplied TorchScript Inception (standard FID/KID features)
//   vgg        VGG-16 (KVD): a tap, resized frames, mean pooling or flattening
// The feature cache is an HDF5 feature store (format "features") per (image set, extractor),
// keyed by the set's checksum (resolved paths, sizes and modification times of its images)
// and the extractor's description (model provenance and every preprocessing option).

#include <cstdint>
#include <memory>
#include <opencv2/core/mat.hpp>
#include <string>
#include <vector>

#include "epe/io/image_set.h"
#include "epe/io/labels.h"
#include "epe/metrics/kernel.h"
#include "epe/metrics/resize.h"

namespace epe {

class Progress;
namespace nn {
class Vgg16;
}

inline constexpr const char* kFeatureStoreFormat = "features";
inline constexpr int kFeatureStoreVersion = 1;

// The pixel range an Inception expects: [0, 255] (clean-fid's and torch-fidelity's) or [0, 1].
enum class InceptionRange { u8, unit };
const Choices<InceptionRange>& inception_ranges();  // "0-255", "0-1"
// How a VGG-16 tap becomes one feature vector: its spatial mean, or flattened (layout kept).
enum class FeaturePool { mean, none };
const Choices<FeaturePool>& feature_pools();  // "mean", "none"

struct ExtractorOptions {
  std::string inception;                                // TorchScript file (FID/KID)
  InceptionRange inception_range = InceptionRange::u8;  // pixel range the model expects: 0-255 | 0-1
  int inception_size = 299;                             // frames resized to this square
  std::string vgg;                                      // VGG-16 weights; empty = random init (warned)
  std::string vgg_tap = "relu5_3";
  FeaturePool vgg_pool = FeaturePool::mean;  // mean | none (flatten)
  std::string vgg_size = "224x224";          // HxW the frames are resized to, or "native"
  ResizeMode resize = ResizeMode::clean;     // how frames are resized: clean | legacy-tf | opencv (resize.h)
  std::string device = "cpu";
  int batch = 8;
  std::uint64_t seed = 0;  // VGG-16 random initialisation
  int threads = 0;         // decoding threads
  void check() const;
};
// Binds the extractors' options (--inception, --vgg, --kvd-*, --resize, --device, --batch).
void add_options(OptionSet& s, ExtractorOptions& e);

class FeatureExtractor {
 public:
  virtual ~FeatureExtractor() = default;
  virtual std::string name() const = 0;         // "inception" | "vgg"
  virtual std::string description() const = 0;  // provenance + preprocessing; the cache key
  // The features of images [begin, end) of `set`, as rows 0 .. end-begin-1. The images go through
  // the network in the batches an extraction of the whole set uses (batch b holds images
  // [b*batch, (b+1)*batch)), the first and last batch in full even when they reach outside
  // [begin, end), so that every row is bit for bit the row of the whole set's extraction: a
  // convolution's result can depend on the batch it is computed in.
  virtual FeatureMatrix extract_rows(const ImageSet& set, std::size_t begin, std::size_t end, Progress* progress) = 0;
  FeatureMatrix extract(const ImageSet& set, Progress* progress) {
    return extract_rows(set, 0, set.images.size(), progress);
  }
  bool random_init = false;
};

std::unique_ptr<FeatureExtractor> make_inception_extractor(const ExtractorOptions& o);
// `net`: a VGG-16 to share (zero padding, on o.device); null = one built from o.vgg / o.seed.
std::unique_ptr<FeatureExtractor> make_vgg_extractor(const ExtractorOptions& o,
                                                     std::shared_ptr<nn::Vgg16> net = nullptr);

// The VGG-16 the extractor options describe (zero padding, moved to o.device).
std::shared_ptr<nn::Vgg16> make_metrics_vgg(const ExtractorOptions& o);

// The key of a set's features in a cache: SHA-256 of the set's checksum and the extractor's
// description (hex).
std::string feature_cache_key(const FeatureExtractor& ex, const ImageSet& set);
// CACHE/<extractor>-<first 16 hex digits of the key>.h5
std::string feature_cache_path(const std::string& cache_dir, const std::string& extractor, const std::string& key);

// The set's features: read from `cache_dir` when a store with the same key exists, else
// extracted (and written there when cache_dir is not empty). `hit` says which.
FeatureMatrix cached_features(FeatureExtractor& ex, const ImageSet& set, const std::string& cache_dir,
                              bool* hit = nullptr, Progress* progress = nullptr);

// Scales `m` so that it covers h x w (aspect ratio kept), then takes the centred h x w window.
// `nearest` for label maps; images use area averaging when shrinking, bicubic when enlarging.
cv::Mat fill_and_crop(const cv::Mat& m, int h, int w, bool nearest);

// OpenCV's resize as epe did it first: area averaging when shrinking, bicubic otherwise (the
// `opencv` mode of resize_frame(); sKVD's frame scaling still uses it).
cv::Mat resize_image(const cv::Mat& m, int h, int w);

}  // namespace epe
