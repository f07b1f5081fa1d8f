#pragma once
// sKVD and cKVD (docs/DESIGN.md §5.7): kernel VGG distances over crop pairs whose layouts agree.
//
// Both metrics cut square crops from every frame of a fake set and of the real set, describe
// each crop by its robust labels sampled on a grid × grid lattice, pair every query crop with
// the crop of the other set whose grid agrees in most cells (the first such crop on ties), keep
// pairs agreeing on more than `threshold` of the cells, and report the unbiased MMD² (kernel
// (x·y/d + 1)³, as KID) between the VGG-16 features of the kept pairs' two sides.
//
// Two crop protocols (`--skvd-protocol`):
//   feamgan  FeaMGAN's published metric code (BonifazStuhr/feamgan, SkvdMetric.py, CkvdMetric.py
//            and eval/kvdEval.py), so numbers stand next to its tables:
//            - frames scaled to height H (aspect kept, width rounded; PIL's bicubic on float
//              channels rounded back to 8 bits, standing in for DALI's cubic resize), labels with
//              centre-aligned nearest; centre crop to H × W (anchor roundf((W' - W) / 2));
//              H × W = 526 × 957, or 526 × 935 when a frame scaled to 526 rows is narrower (its
//              16:9 configuration), unless --skvd-frame says otherwise;
//            - step s = 0 .. n_fake - 1 reads fake frame s and real frame s mod n_real (the real
//              set wraps, frames in list order); every `every`-th step is evaluated;
//            - per evaluated step, numpy.random.default_rng(42) draws the fake crop's centre
//              (integers(p/2, H - p/2), then integers(p/2, W - p/2)), then the real crop's; p =
//              floor(sqrt(H W / 8)), crop side 2 floor(p / 2) (kvdEval passes the generated
//              frames first, as the metric's "real_data");
//            - labels sampled as F.interpolate(mode='nearest') to 16 × 16 (rows floor(i · side/16));
//            - each REAL crop looks for its nearest fake crop (kvdEval's argument order again);
//            - one MMD² over all kept pairs (std 0), features VGG-16 relu5_3 flattened.
//   epe      the toolkit's first protocol: frames scaled to cover H × W and centre-cropped
//            (OpenCV), `crops_per_frame` crops per frame at seeded uniform positions, labels at
//            cell centres, each FAKE crop looks for its nearest real crop, optional subsets.
//
// cKVD (FeaMGAN's CkvdMetric): per class group (sky, ground, road, terrain, vegetation,
// roadside objects, buildings, persons, vehicles — MSeg universal ids — and "rest", the pixels
// of no group), every crop in which the group covers more than `ckvd_min_share` of the pixels
// is replaced by its masked copy (pixels outside the group set to mid-grey, 0 in FeaMGAN's
// [-1, 1] range; "rest" is always taken); pairs are formed within the group as above and each
// group's MMD² is reported; "all" is the mean over the groups that have one.

#include <cstdint>
#include <string>
#include <vector>

#include "epe/metrics/features.h"
#include "epe/metrics/kernel.h"

namespace epe {

class Progress;
namespace nn {
class Vgg16;
}

// Whose crops and pairing sKVD/cKVD use: FeaMGAN's published metric code, or epe's own.
enum class SkvdProtocol { feamgan, epe };
const Choices<SkvdProtocol>& skvd_protocols();  // "feamgan", "epe"

struct SkvdOptions {
  SkvdProtocol protocol = SkvdProtocol::feamgan;  // feamgan | epe
  std::string frame = "auto";                     // HxW, or auto (see above)
  double crop_fraction = 0.125;                   // crop area / frame area (FeaMGAN: 1/8)
  int crops_per_frame = 1;                        // epe only
  int every = 1;                                  // feamgan: evaluate every N-th step (kvdEval's --every_x_steps)
  std::uint64_t feamgan_seed = 42;                // feamgan: numpy.random.default_rng seed of the crop centres
  int grid = 16;                                  // label grid side
  double threshold = 0.5;                         // keep pairs whose labels agree on more than this fraction
  std::string layer = "relu5_3";
  FeaturePool pool = FeaturePool::none;  // none (flatten, spatial layout kept) | mean
  int subsets = 1;                       // 1 = one subset of all kept pairs
  std::int64_t subset_size = 0;          // pairs per subset when subsets > 1 (0 = all kept pairs)
  double ckvd_min_share = 0.05;          // cKVD: a group enters a crop above this share of its pixels
  void check() const;
  bool feamgan() const { return protocol == SkvdProtocol::feamgan; }
  int crop_side(int h, int w) const;  // feamgan: 2 floor(p / 2); epe: p; p = floor(sqrt(h w fraction))
  // The H x W frame the crops are cut from, `auto` resolved from the two sets' frame sizes
  // (read from the file headers). UserError when a frame cannot hold it (feamgan).
  std::pair<int, int> resolve_frame(const ImageSet& real, const ImageSet& fake) const;
};

// A crop to cut: frame (row of its set) and top-left corner in the prepared H x W frame.
struct CropSpec {
  std::int32_t frame = 0;
  int r0 = 0, c0 = 0;
  bool operator==(const CropSpec& o) const { return frame == o.frame && r0 == o.r0 && c0 == o.c0; }
};

struct CropPlan {
  int height = 0, width = 0, side = 0;
  std::vector<CropSpec> real, fake;
};

// The crops of one fake set and the real set under o's protocol (feamgan: the real crops depend
// on the number of fake frames, since the two sets are read in lockstep).
CropPlan plan_crops(const SkvdOptions& o, const ImageSet& real, const ImageSet& fake, std::uint64_t seed);

// Features of one set's crops: the plain crops (sKVD) and, for cKVD, each class group's masked
// crops. Rows of `features` follow the specs; grids are [n, grid * grid] robust-label samples.
struct SkvdCrops {
  FeatureMatrix features;
  std::vector<std::uint8_t> grids;
  std::vector<std::int32_t> frame;
  struct Group {
    FeatureMatrix features;           // one row per crop the group entered
    std::vector<std::int64_t> crops;  // the crop (row of `grids`) of each row
  };
  std::vector<Group> groups;  // ckvd_groups() order; empty unless asked for
};

// Needs robust labels for every frame (UserError naming the list line otherwise).
SkvdCrops skvd_crops(const ImageSet& set, const std::vector<CropSpec>& specs, const CropPlan& plan,
                     const SkvdOptions& o, nn::Vgg16& vgg, const std::string& device, bool skvd, bool ckvd, int threads,
                     Progress* progress = nullptr);

// The class groups of cKVD (FeaMGAN's name_to_class_ids), MSeg universal ids; "rest" last
// (ids empty: the pixels of no other group).
struct CkvdGroup {
  std::string name;
  std::vector<int> ids;
};
const std::vector<CkvdGroup>& ckvd_groups();

struct SkvdClass {
  int id = 0;
  std::string name;
  std::int64_t pairs = 0;
  double value = 0;  // MMD^2 over the class's pairs (NaN below 2 pairs)
};

struct SkvdResult {
  double mean = 0, std = 0;  // raw (not x 10^3)
  std::int64_t pairs = 0, candidates = 0;
  std::vector<SkvdClass> classes;  // by the fake crop's dominant label, most pairs first
};

SkvdResult skvd(const SkvdCrops& real, const SkvdCrops& fake, const SkvdOptions& o, std::uint64_t seed);

struct CkvdClass {
  std::string name;
  std::int64_t pairs = 0, candidates = 0;  // kept pairs; query crops the group entered
  double mean = 0, std = 0;                // NaN when fewer than 2 pairs (or no crop of the other set)
};

struct CkvdResult {
  double mean = 0, std = 0;        // "all": mean over the groups with a value (std over subsets)
  int groups = 0;                  // groups with a value
  std::vector<CkvdClass> classes;  // ckvd_groups() order, groups the query crops entered
};

CkvdResult ckvd(const SkvdCrops& real, const SkvdCrops& fake, const SkvdOptions& o, std::uint64_t seed);

// One line describing the protocol of o (for reports).
std::string describe_skvd(const SkvdOptions& o, const CropPlan& plan);

}  // namespace epe
