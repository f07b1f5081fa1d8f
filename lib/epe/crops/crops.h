#pragma once
// `epe crops`: VGG-16 relu5_3 embeddings of image crops (DESIGN §5.2), streamed into a crop
// store (crop_store.h).
//
// * random mode (the reference's collect_crops.py): `crops_per_image` crops per frame with
//   uniformly random top-left corners; frame f's corners come from Rng(seed, f), so a resumed
//   run draws the same corners as an uninterrupted one.
// * grid mode: one valid-padding pass over the whole frame; relu5_3 position (i, j) is the
//   embedding of the 196x196 crop with top-left (16i, 16j) (translation equivariance of valid
//   convolutions; the four 2x2 pools align for shifts by multiples of 16). Crop sizes
//   196 + 16k are supported by averaging (k+1)x(k+1) relu5_3 windows, which equals the random
//   mode's feature of such a crop (the mean over its relu5_3 map).
//
// Frames are decoded ahead in a small thread pool; crops of several frames share a forward
// pass; memory is bounded by the prefetch window plus one batch, whatever the dataset size.

#include <array>
#include <cstdint>
#include <functional>
#include <string>

namespace epe {

class Progress;

struct CropsOptions {
  std::string list;                   // file list: synthetic, real, or one image path per line
  std::string out;                    // crop store to write (.h5)
  std::string name;                   // dataset name; empty = the list file's stem
  std::string mode = "random";        // random | grid
  int crops_per_image = 15;           // random mode
  int crop_size = 196;                // crop side; grid mode needs 196 + 16k
  int grid_step = 1;                  // grid mode: keep every n-th position in each direction
  int max_per_image = 0;              // grid mode: seeded subsample of at most this many crops per frame (0 = all)
  std::string norm = "imagenet";      // imagenet | dataset (the reference's per-dataset statistics)
  int norm_frames = 1000;             // frames (seeded subset) used for --norm dataset
  std::string vgg;                    // VGG-16 weights (torch.save zip or epe HDF5); empty = random init
  std::uint64_t seed = 0;             // corners, subsampling, statistics subset, random init
  int batch = 0;                      // random: crops per pass; grid: frames per pass (same size); 0 = auto
  int decode_threads = 2;             // frames decoded ahead in parallel
  int prefetch = 4;                   // frames decoded ahead of the network
  std::string device = "cpu";         // cpu | cuda[:i]
  std::string precision = "float32";  // float32 | float16 | bfloat16 (CUDA)
  bool skip_small = false;            // skip frames smaller than the crop instead of failing
  bool resume = false;                // continue <out>.partial from its last complete frame
  bool force = false;                 // overwrite an existing output

  std::string command;      // recorded in the store
  std::string options_ini;  // recorded in the store; compared on --resume

  // UserError naming the option for an invalid value or combination.
  void check() const;
};

struct CropsResult {
  std::string out;
  std::int64_t frames = 0;          // frames that contributed crops
  std::int64_t frames_skipped = 0;  // smaller than the crop (--skip-small)
  std::int64_t frames_resumed = 0;  // already done by the interrupted run
  std::int64_t crops = 0;
  double seconds = 0;  // this run only
  std::int64_t crops_this_run = 0;
  std::int64_t bytes = 0;  // size of the store
  std::string weights;     // provenance of the VGG-16 weights
  bool random_weights = false;
  std::array<double, 3> mean{}, std{};
};

// Runs the stage. Progress counts frames. The store appears under options.out only when
// complete; until then it lives at `<out>.partial`.
CropsResult compute_crops(const CropsOptions& options, Progress* progress = nullptr);

// The reference's dataset statistics: means over frames of the per-frame channel means and
// (unbiased) standard deviations of RGB in [0,1], over at most `max_frames` frames chosen with
// Rng(seed) (all frames when there are fewer).
struct ChannelStats {
  std::array<double, 3> mean{}, std{};
  std::int64_t frames = 0;
};
ChannelStats dataset_channel_stats(const std::vector<std::string>& images, int max_frames, std::uint64_t seed,
                                   int threads, Progress* progress = nullptr);

}  // namespace epe
