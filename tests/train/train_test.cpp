// Training the enhancer: supervised overfitting, determinism, exact resume, a 200-step GAN run on
// demo data, the NaN guard with rollbacks, enhancement, and the errors that must come before any
// step runs.

#include "epe/train/train.h"

#include <gtest/gtest.h>
#include <torch/script.h>
#include <torch/torch.h>

#include <cmath>
#include <filesystem>
#include <set>

#include "epe/crops/crop_store.h"
#include "epe/demo/demo_data.h"
#include "epe/io/file_list.h"
#include "epe/io/image.h"
#include "epe/match/match.h"
#include "epe/nn/convert.h"
#include "epe/nn/generator.h"
#include "epe/train/export.h"
#include "test_util.h"

namespace fs = std::filesystem;

namespace epe::test {
namespace {

// Small demo data shared by the tests of this file (written once).
const std::string& demo_dir() {
  static TempDir* dir = new TempDir;  // kept until the process ends
  static bool made = false;
  if (!made) {
    DemoOptions o;
    o.out = *dir / "demo";
    o.images = 3;
    o.height = 72;
    o.width = 120;
    o.seed = 5;
    make_demo_data(o);
    made = true;
  }
  static const std::string path = *dir / "demo";
  return path;
}

TrainOptions tiny_options(const std::string& out, std::int64_t steps) {
  TrainOptions o;
  o.out = out;
  o.generator = nn::GeneratorConfig::preset("tiny");
  o.generator.gbuffer_channels = 0;  // from the data (8 demo channels)
  o.discriminator = nn::DiscriminatorConfig::preset("tiny");
  o.data.synthetic = demo_dir() + "/synthetic.csv";
  o.data.real = demo_dir() + "/real.csv";
  o.data.sampling = PairSampling::independent;
  o.data.crop = 40;
  o.data.threads = 2;
  o.steps = steps;
  o.log_every = 1000;
  o.sample_every = 0;
  o.checkpoint_every = 1000;
  o.seed = 3;
  return o;
}

std::vector<double> losses(const TrainResult& r) {
  std::vector<double> v;
  for (const auto& s : r.records) v.insert(v.end(), {s.g_gan, s.g_lpips, s.d_fake, s.d_real, s.d_r1});
  return v;
}

TEST(Train, TinyGeneratorOverfitsOnePairWithL1) {
  torch::manual_seed(0);
  nn::GeneratorConfig c = nn::GeneratorConfig::preset("tiny");
  c.gbuffer_channels = 4;
  c.num_classes = 3;
  nn::Generator g(c);
  namespace F = torch::nn::functional;
  // One pair of smooth images (a frame-like input and another colouring of it).
  const at::Tensor x = F::interpolate(
      torch::rand({1, 3, 4, 4}),
      F::InterpolateFuncOptions().size(std::vector<int64_t>{32, 32}).mode(torch::kBilinear).align_corners(false));
  const at::Tensor gb = torch::randn({1, 4, 32, 32});
  const at::Tensor cls =
      torch::one_hot(torch::randint(0, 3, {1, 32, 32}, torch::kInt64), 3).permute({0, 3, 1, 2}).to(torch::kFloat32);
  const at::Tensor y = 0.8 - 0.6 * x;  // inverted, lower contrast
  torch::optim::Adam opt(g.parameters(), torch::optim::AdamOptions(2e-3));
  double first = 0, last = 0;
  for (int i = 0; i < 400; ++i) {
    if (i == 300)  // a step decay settles the L1 optimum
      for (auto& grp : opt.param_groups()) static_cast<torch::optim::AdamOptions&>(grp.options()).lr(2e-4);
    opt.zero_grad();
    const at::Tensor loss = (g.forward(x, gb, cls) - y).abs().mean();
    if (i == 0) first = loss.item<double>();
    last = loss.item<double>();
    loss.backward();
    opt.step();
  }
  EXPECT_LT(last, 0.1 * first) << "first " << first << " last " << last;
}

TEST(Train, SameSeedGivesIdenticalLossesAndResumeContinuesExactly) {
  TempDir dir;
  TrainOptions a = tiny_options(dir / "a", 10);
  const TrainResult ra = train(a);
  ASSERT_EQ(ra.records.size(), 10u);
  EXPECT_EQ(losses(train([&] {
              TrainOptions b = a;
              b.out = dir / "b";
              return b;
            }())),
            losses(ra));
  // Interrupted after 6 steps, then resumed to 10: the last 4 steps equal the uninterrupted run's.
  TrainOptions c = tiny_options(dir / "c", 6);
  train(c);
  EXPECT_TRUE(fs::exists(dir / "c/checkpoints/step_0000006.pt"));
  c.steps = 10;
  c.resume = true;
  const TrainResult rc = train(c);
  ASSERT_EQ(rc.records.size(), 4u);
  EXPECT_EQ(rc.first_step, 6);
  const std::vector<double> all = losses(ra);
  const std::vector<double> tail(all.begin() + 6 * 5, all.end());
  EXPECT_EQ(losses(rc), tail);
  // Every loss term of every step is logged.
  const std::string log = read_text(dir / "c/log.csv");
  EXPECT_EQ(std::count(log.begin(), log.end(), '\n'), 11);
  EXPECT_NE(log.find("step,kind,seconds,lr_g,lr_d,g_gan,g_lpips"), std::string::npos);
  // A checkpoint of another configuration is refused before any step.
  TrainOptions d = c;
  d.generator.blocks = 2;
  d.steps = 12;
  EXPECT_NE(user_error_message([&] { train(d); }).find("another configuration"), std::string::npos);
}

TEST(Train, GanRunOnDemoDataKeepsLossesFiniteAndEnhances) {
  TempDir dir;
  TrainOptions o = tiny_options(dir / "run", 200);
  o.sample_every = 100;
  o.checkpoint_every = 100;
  const TrainResult r = train(o);
  ASSERT_EQ(r.records.size(), 200u);
  int gen = 0, disc = 0;
  for (const auto& s : r.records) {
    for (double v : {s.g_gan, s.g_lpips, s.g_total, s.d_fake, s.d_real, s.d_r1, s.d_total})
      ASSERT_TRUE(std::isfinite(v)) << s.step;
    EXPECT_NE(s.kind, "bad");
    gen += s.kind == "gen";
    disc += s.kind == "disc";
  }
  EXPECT_EQ(gen, 100);
  EXPECT_GT(disc, 10);
  // The controller lowered some run probabilities from their start at 1.
  double min_p = 1;
  for (double p : r.records.back().run_probability) min_p = std::min(min_p, p);
  EXPECT_LT(min_p, 1.0);
  EXPECT_TRUE(fs::exists(dir / "run/samples/step_0000100.png"));
  EXPECT_TRUE(fs::exists(dir / "run/checkpoints/step_0000200.pt"));
  // Enhance the demo frames with the trained generator (whole frames and in tiles).
  EnhanceOptions e;
  e.checkpoint = dir / "run";
  e.list = demo_dir() + "/synthetic.csv";
  e.out = dir / "enh";
  const EnhanceResult er = enhance(e);
  EXPECT_EQ(er.frames, 3);
  const cv::Mat whole = read_image(dir / "enh/images/000001.png");
  EXPECT_EQ(whole.rows, 72);
  EXPECT_EQ(whole.cols, 120);
  const FileList enhanced = read_file_list(er.list, DatasetKind::synthetic);
  EXPECT_EQ(enhanced.rows.size(), 3u);
  e.out = dir / "tiled";
  e.tile = 48;
  e.overlap = 8;
  enhance(e);
  EXPECT_EQ(read_image(dir / "tiled/images/000001.png").cols, 120);
  // The exported TorchScript module computes what the generator computes.
  ExportOptions xo;
  xo.checkpoint = dir / "run";
  xo.out = dir / "g.pt";
  xo.size = "72x120";
  const ExportResult xr = export_model(xo);
  EXPECT_EQ(xr.gbuffer_channels, 8);
  torch::jit::Module jm = torch::jit::load(dir / "g.pt");
  torch::serialize::InputArchive a, ag;
  a.load_from(dir / "run/checkpoints/step_0000200.pt");
  a.read("generator", ag);
  nn::GeneratorConfig gc = o.generator;
  gc.gbuffer_channels = 8;
  nn::Generator g(gc);
  g.load(ag);
  g.eval();
  torch::NoGradGuard no_grad;
  const at::Tensor x = torch::rand({1, 3, 72, 120}), gb = torch::randn({1, 8, 72, 120});
  const at::Tensor cls =
      torch::one_hot(torch::randint(0, 12, {1, 72, 120}, torch::kInt64), 12).permute({0, 3, 1, 2}).to(torch::kFloat32);
  const at::Tensor want = g.forward(x, gb, cls), got = jm.forward({x, gb, cls}).toTensor();
  EXPECT_LT((want - got).abs().max().item<double>(), 1e-5);
}

// The window of a crop at `window`: where `part` [C, w, w] lies inside `whole` [C, h, h]
// (exact equality), or {-1, -1}.
std::pair<int, int> find_window(const at::Tensor& whole, const at::Tensor& part) {
  const int64_t w = part.size(-1);
  for (int64_t r = 0; r + w <= whole.size(-2); ++r)
    for (int64_t c = 0; c + w <= whole.size(-1); ++c)
      if (torch::equal(whole.narrow(-2, r, w).narrow(-1, c, w), part)) return {int(r), int(c)};
  return {-1, -1};
}

TEST(TrainData, WindowsAreNativeScalePartsOfTheCropsAtOnePositionPerPair) {
  TrainOptions o = tiny_options("unused", 1);
  TrainDataOptions whole = o.data, part = o.data;
  part.window = 24;
  const TrainData dw(whole, 8, 12), dp(part, 8, 12);
  std::set<std::pair<int, int>> positions;
  for (std::int64_t step = 0; step < 6; ++step) {
    const TrainBatch a = dw.get(step), b = dp.get(step);
    ASSERT_EQ(b.syn_image.sizes(), (std::vector<int64_t>{1, 3, 24, 24}));
    ASSERT_EQ(b.real_labels.sizes(), (std::vector<int64_t>{1, 24, 24}));
    // The same crops as without --window (its draws come after them), cut at the same place on
    // both sides; the G-buffers, class maps and labels with them.
    const auto at = find_window(a.syn_image[0], b.syn_image[0]);
    ASSERT_NE(at.first, -1) << step;
    EXPECT_EQ(find_window(a.real_image[0], b.real_image[0]), at) << step;
    EXPECT_TRUE(torch::equal(a.gbuffers[0].narrow(1, at.first, 24).narrow(2, at.second, 24), b.gbuffers[0]));
    EXPECT_TRUE(torch::equal(a.classes[0].narrow(1, at.first, 24).narrow(2, at.second, 24), b.classes[0]));
    EXPECT_TRUE(torch::equal(a.syn_labels[0].narrow(0, at.first, 24).narrow(1, at.second, 24), b.syn_labels[0]));
    EXPECT_TRUE(torch::equal(a.real_labels[0].narrow(0, at.first, 24).narrow(1, at.second, 24), b.real_labels[0]));
    positions.insert(at);
  }
  EXPECT_GT(positions.size(), 3u);  // the position is drawn per pair
  part.window = 41;                 // larger than --crop 40
  EXPECT_NE(user_error_message([&] { part.check(); }).find("option --window 41 is larger than --crop 40"),
            std::string::npos);
  part.window = 24;
  part.resize = 16;
  EXPECT_NE(user_error_message([&] { part.check(); }).find("--window and --resize exclude each other"),
            std::string::npos);
}

// A crop store over the frames of `list` with the given boxes (features: a one-hot per box, so
// that box i of the source store matches box i of the target store with cosine 1 and nothing else).
void write_store(const std::string& path, const std::string& list, DatasetKind kind,
                 const std::vector<CropBox>& boxes) {
  const FileList fl = read_file_list(list, kind);
  CropStoreMeta m;
  m.name = fs::path(path).stem().string();
  m.dim = static_cast<int>(boxes.size());
  CropStoreWriter wr(path, m, "test", "");
  for (const ListRow& row : fl.rows) wr.add_image(row.image(), 72, 120);
  std::vector<float> f(boxes.size() * boxes.size(), 0.f);
  for (std::size_t i = 0; i < boxes.size(); ++i) f[i * boxes.size() + i] = 1.f;
  wr.add_crops(boxes.data(), f.data(), static_cast<std::int64_t>(boxes.size()));
  wr.commit(static_cast<std::int64_t>(fl.rows.size()), 0);
  wr.finish();
}

TEST(TrainData, MatchedSamplingCutsThePairedBoxesOfBothFrames) {
  TempDir dir;
  const std::vector<CropBox> src = {{0, 0, 40, 0, 40}, {1, 20, 60, 70, 110}, {2, 32, 72, 10, 50}},
                             dst = {{2, 5, 45, 80, 120}, {0, 30, 70, 40, 80}, {1, 0, 40, 30, 70}};
  write_store(dir / "src.h5", demo_dir() + "/synthetic.csv", DatasetKind::synthetic, src);
  write_store(dir / "dst.h5", demo_dir() + "/real.csv", DatasetKind::real, dst);
  MatchOptions mo;
  mo.src = dir / "src.h5";
  mo.dst = dir / "dst.h5";
  mo.out = dir / "m.h5";
  mo.k = 1;
  mo.min_cosine = 0.9;
  ASSERT_EQ(compute_matches(mo).pairs, 3);

  TrainOptions o = tiny_options("unused", 1);
  o.data.sampling = PairSampling::matched;
  o.data.matches = dir / "m.h5";
  const TrainData data(o.data, 8, 12);
  EXPECT_EQ(data.pairs(), 3);
  const FileList syn = read_file_list(demo_dir() + "/synthetic.csv", DatasetKind::synthetic);
  const FileList real = read_file_list(demo_dir() + "/real.csv", DatasetKind::real);
  auto cut = [](const std::string& image, const CropBox& b) {
    return nn::image_to_tensor(read_image(image)(cv::Rect(b.c0, b.r0, b.c1 - b.c0, b.r1 - b.r0)));
  };
  std::set<std::size_t> seen;
  for (std::int64_t step = 0; step < 12; ++step) {
    const TrainBatch t = data.get(step);
    ASSERT_EQ(t.syn_image.sizes(), (std::vector<int64_t>{1, 3, 40, 40}));
    // The synthetic crop is one of the source boxes, the real crop the box it was paired with.
    std::size_t k = 0;
    while (k < src.size() && !torch::equal(t.syn_image[0], cut(syn.rows[src[k].image].image(), src[k]))) ++k;
    ASSERT_LT(k, src.size()) << "step " << step << ": the synthetic crop is none of the source boxes";
    EXPECT_TRUE(torch::equal(t.real_image[0], cut(real.rows[dst[k].image].image(), dst[k]))) << step;
    seen.insert(k);
  }
  EXPECT_EQ(seen.size(), 3u);  // every pair is drawn (uniformly; 12 draws from seed 3)

  // A window larger than a paired crop is an error when the data opens, before any step.
  write_store(dir / "src.h5", demo_dir() + "/synthetic.csv", DatasetKind::synthetic,
              {{0, 0, 40, 0, 40}, {1, 20, 60, 70, 110}, {2, 42, 72, 10, 40}});
  mo.force = true;
  ASSERT_EQ(compute_matches(mo).pairs, 3);
  o.data.window = 32;
  EXPECT_NE(user_error_message([&] {
              TrainData bad(o.data, 8, 12);
            }).find("option --window 32 is larger than a 30x30 crop of pair 2"),
            std::string::npos);
  o.data.window = 24;
  EXPECT_NO_THROW(TrainData ok(o.data, 8, 12));
}

TEST(Train, NonFiniteStepsAreSkippedThenRolledBackThenAbandoned) {
  TempDir dir;
  TrainOptions o = tiny_options(dir / "nan", 40);
  o.lr_g = 1e30;  // the first generator update destroys the weights
  o.max_bad_steps = 2;
  o.max_rollbacks = 2;
  std::string msg = user_error_message([&] { train(o); });
  EXPECT_NE(msg.find("training diverges"), std::string::npos) << msg;
  EXPECT_NE(msg.find("step_0000000.pt"), std::string::npos) << msg;
}

TEST(Train, InputErrorsComeBeforeAnyStep) {
  TempDir dir;
  TrainOptions o = tiny_options(dir / "x", 4);
  o.generator.gbuffer_channels = 32;  // the demo has 8
  std::string msg = user_error_message([&] { train(o); });
  EXPECT_NE(msg.find("8 channels"), std::string::npos) << msg;
  EXPECT_NE(msg.find("expects 32"), std::string::npos) << msg;
  EXPECT_FALSE(fs::exists(dir / "x"));
  // A value outside an enum option's names stops at the binding, before anything runs.
  TrainOptions init = tiny_options(dir / "w", 4);
  NetworkOverrides nets;
  OptionSet s("epe train", "test");
  add_options(s, init, nets);
  msg = user_error_message([&] { s.parse({"--generator-init", "zeros"}); });
  EXPECT_EQ(msg, "option --generator-init: 'zeros' is not one of reference | identity");
  EXPECT_FALSE(fs::exists(dir / "w"));
  // Unlabeled robust labels (255) are allowed (masked out of the projection term); an id beyond
  // the discriminator's label classes is an error naming the line and the option.
  fs::copy(demo_dir(), dir / "d", fs::copy_options::recursive);
  write_png(dir / "d/real/robust_labels/0001.png", cv::Mat(72, 120, CV_8UC1, cv::Scalar(255)));
  TrainOptions p = tiny_options(dir / "y", 2);
  p.data.synthetic = dir / "d/synthetic.csv";
  p.data.real = dir / "d/real.csv";
  const TrainResult rp = train(p);
  ASSERT_EQ(rp.records.size(), 2u);
  for (double v : losses(rp)) EXPECT_TRUE(std::isfinite(v));
  TrainOptions q = tiny_options(dir / "z", 2);
  q.data.synthetic = dir / "d/synthetic.csv";
  q.data.real = dir / "d/real.csv";
  q.discriminator.num_classes = 19;  // a Cityscapes-trained segmenter: the demo's MSeg ids do not fit
  msg = user_error_message([&] { train(q); });
  EXPECT_NE(msg.find("synthetic.csv:1:"), std::string::npos) << msg;
  EXPECT_NE(msg.find("label id 35 at (row 0, col 0) is out of range (valid: 0..18 or 255)"), std::string::npos) << msg;
  EXPECT_NE(msg.find("--label-classes"), std::string::npos) << msg;
  EXPECT_FALSE(fs::exists(dir / "z"));
}

}  // namespace
}  // namespace epe::test
