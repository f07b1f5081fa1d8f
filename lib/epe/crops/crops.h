#pragma once
// `epe crops`: VGG-16 relu5_3 embeddings of image crops (docs/DESIGN.md §5.2), streamed into a crop
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
#include <vector>

#include "epe/core/options.h"
#include "epe/core/shard.h"

namespace epe {

class Progress;

enum class CropMode { random, grid };
enum class CropNorm { imagenet, dataset };
const Choices<CropMode>& crop_modes();  // "random", "grid" (the store's `mode` attribute)
const Choices<CropNorm>& crop_norms();  // "imagenet", "dataset" (the store's `norm` attribute)

struct CropsOptions {
  std::string list;                    // file list: synthetic, real, or one image path per line
  std::string out;                     // crop store to write (.h5)
  std::string name;                    // dataset name; empty = the list file's stem
  CropMode mode = CropMode::random;    // random | grid
  int crops_per_image = 15;            // random mode
  int crop_size = 196;                 // crop side; grid mode needs 196 + 16k
  int grid_step = 1;                   // grid mode: keep every n-th position in each direction
  int max_per_image = 0;               // grid mode: seeded subsample of at most this many crops per frame (0 = all)
  CropNorm norm = CropNorm::imagenet;  // imagenet | dataset (the reference's per-dataset statistics)
  int norm_frames = 1000;              // frames (seeded subset) used for --norm dataset
  std::string vgg;                     // VGG-16 weights (torch.save zip or epe HDF5); empty = random init
  std::uint64_t seed = 0;              // corners, subsampling, statistics subset, random init
  int batch = 0;                       // random: crops per pass; grid: frames per pass (same size); 0 = auto
  int decode_threads = 2;              // frames decoded ahead in parallel
  int prefetch = 4;                    // frames decoded ahead of the network
  std::string device = "cpu";          // cpu | cuda[:i]
  std::string precision = "float32";   // float32 | float16 | bfloat16 (CUDA)
  bool skip_small = false;             // skip frames smaller than the crop instead of failing
  Shard shard;                         // --shard I/N: only this part of the list's rows (core/shard.h)
  bool resume = false;                 // continue <out>.partial from its last complete frame
  bool force = false;                  // overwrite an existing output

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
  std::int64_t row_begin = 0, row_end = 0;  // the list rows this run covered (the shard's)
  bool already_complete = false;            // a shard run found its complete output and did nothing
};

// Binds every option of `epe crops` to `o` (command line, --config files, the record).
void add_options(OptionSet& s, CropsOptions& o);
// The lines `epe crops` prints when it is done, ending in a newline.
std::string format_summary(const CropsOptions& o, const CropsResult& r);

// Runs the stage. Progress counts frames. The store appears under options.out only when
// complete; until then it lives at `<out>.partial`.
//
// With options.shard set, only the shard's rows are embedded, into a shard store that
// `merge_crop_shards` joins with the others; random corners and grid subsamples are seeded by
// the global row and --norm dataset statistics come from the whole list, so the merged store
// equals an unsharded run's. A shard run whose complete output already exists with the same
// list, shard, options and weights does nothing (already_complete), so a Slurm array can be
// resubmitted; any other existing output needs --force as always.
CropsResult compute_crops(const CropsOptions& options, Progress* progress = nullptr);

// `epe merge crops`: joins the complete shard stores `shards` (any order; exactly the N shards
// of one list, computed with the same options and weights) into `out`, which then equals the
// store of one unsharded run in features, boxes, order and attributes (other than `created`
// and `command`). UserError naming the files otherwise; nothing is written under `out` then.
struct MergeResult {
  std::string out;
  int shards = 0;
  std::int64_t frames = 0, crops = 0, bytes = 0;
  double seconds = 0;
};
MergeResult merge_crop_shards(const std::vector<std::string>& shards, const std::string& out, bool force,
                              const std::string& command, Progress* progress = nullptr);
// The lines `epe merge crops` prints, ending in a newline.
std::string format_summary(const MergeResult& r);

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
