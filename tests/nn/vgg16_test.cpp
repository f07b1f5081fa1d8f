#include "epe/nn/vgg16.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <fstream>
#include <iterator>

#include "cuda_test.h"
#include "epe/io/npz.h"
#include "test_util.h"
#include "vgg_fixture.h"

namespace epe::test {
namespace {

// max |a - b| / max |b|
double rel_error(const at::Tensor& a, const at::Tensor& b) {
  return (a.to(torch::kDouble) - b.to(torch::kDouble)).abs().max().item<double>() /
         std::max(1e-30, b.to(torch::kDouble).abs().max().item<double>());
}

at::Tensor npz_tensor(const std::string& key) {
  NpyArray a = read_npz_array(fixture_dir() + "/reference.npz", key);
  std::vector<int64_t> shape(a.shape.begin(), a.shape.end());
  if (a.dtype == "<i8") {
    std::vector<int64_t> v(a.size());
    std::memcpy(v.data(), a.data.data(), v.size() * 8);
    return torch::tensor(v).view(shape);
  }
  std::vector<float> v = a.to_float();
  return torch::from_blob(v.data(), shape, torch::kFloat).clone();
}

std::shared_ptr<nn::Vgg16> fixture_net(nn::Padding padding) {
  nn::Vgg16Options o;
  o.padding = padding;
  auto net = std::make_shared<nn::Vgg16>(o);
  nn::StateDict sd;
  sd.tensors = fixture_vgg_weights();
  sd.provenance = "fixture sha256:0";
  net->load(sd);
  return net;
}

void check_taps(nn::Padding padding, const std::string& prefix) {
  auto net = fixture_net(padding);
  torch::NoGradGuard g;
  at::Tensor x = nn::normalize(fixture_image(1001, 40, 48), nn::Normalization::imagenet());
  std::vector<int> all;
  for (int i = 0; i < 13; ++i) all.push_back(i);
  std::vector<at::Tensor> taps = net->forward(x, all);
  at::Tensor index = npz_tensor("sample_index");
  for (int i = 0; i < 13; ++i) {
    at::Tensor flat = taps[i].reshape(-1);
    at::Tensor ours = flat.index_select(0, index.remainder(flat.numel()));
    at::Tensor ref = npz_tensor(prefix + nn::vgg16_taps()[i]);
    EXPECT_LE(rel_error(ours, ref), 1e-5) << prefix << nn::vgg16_taps()[i];
  }
}

TEST(Vgg16, ZeroPaddingTapsEqualTorchvision) {
  check_taps(nn::Padding::zeros, "zeros_");
}

TEST(Vgg16, ReplicatePaddingTapsEqualTorchvision) {
  check_taps(nn::Padding::replicate, "replicate_");
}

TEST(Vgg16, ValidPaddingCropsEqualTorchvision) {
  auto net = fixture_net(nn::Padding::none);
  torch::NoGradGuard g;
  cv::Mat u8 = fixture_frame_u8(1000, 200, 210);
  at::Tensor frame = torch::from_blob(u8.data, {200, 210, 3}, torch::kUInt8).permute({2, 0, 1}).unsqueeze(0);
  frame = nn::normalize(frame.to(torch::kFloat) / 255.0, nn::Normalization::imagenet());
  at::Tensor ref = npz_tensor("crops_all");
  ASSERT_EQ(ref.size(0), 75);
  for (int r : {0, 2, 4})
    for (int c : {0, 7, 14}) {
      at::Tensor f = net->forward(frame.slice(2, r, r + 196).slice(3, c, c + 196), 12).reshape(512);
      EXPECT_LE(rel_error(f, ref[r * 15 + c]), 1e-5) << "crop at " << r << "," << c;
    }
}

// cuDNN's convolutions sum in another order than the CPU's: equal to float rounding.
TEST_F(CudaTest, TapsOnTheGpuEqualTheCpu_CUDA) {
  auto net = fixture_net(nn::Padding::zeros);
  torch::NoGradGuard g;
  const at::Tensor x = nn::normalize(fixture_image(1001, 40, 48), nn::Normalization::imagenet());
  std::vector<int> all;
  for (int i = 0; i < 13; ++i) all.push_back(i);
  const std::vector<at::Tensor> cpu = net->forward(x, all);
  net->to(torch::Device("cuda"));
  const std::vector<at::Tensor> gpu = net->forward(x.to(torch::Device("cuda")), all);
  for (int i = 0; i < 13; ++i) EXPECT_LE(rel_error(gpu[i].cpu(), cpu[i]), 1e-4) << nn::vgg16_taps()[i];
}

TEST(Vgg16, OutputSizes) {
  EXPECT_EQ(nn::Vgg16::valid_output_size(196, 12), 1);
  EXPECT_EQ(nn::Vgg16::valid_output_size(526, 12), 21);
  EXPECT_EQ(nn::Vgg16::valid_output_size(957, 12), 48);
  EXPECT_EQ(nn::Vgg16::valid_output_size(195, 12), 0);
  EXPECT_EQ(nn::Vgg16::valid_output_size(10, 0), 8);
  EXPECT_EQ(nn::vgg16_tap_index("relu3_3"), 6);
  EXPECT_NE(user_error_message([] { nn::vgg16_tap_index("relu6_1"); }).find("relu5_3"), std::string::npos);
  EXPECT_NE(user_error_message([] { nn::parse_padding("reflect"); }).find("--padding"), std::string::npos);
}

TEST(Vgg16, ReadsStateDictWrittenByPythonTorchSave) {
  nn::StateDict sd = nn::read_state_dict(fixture_dir() + "/partial_zip.pt");
  ASSERT_EQ(sd.tensors.size(), 3u);
  auto w = fixture_vgg_weights();
  EXPECT_TRUE(torch::equal(sd.tensors.at("features.0.weight"), w.at("features.0.weight")));
  EXPECT_TRUE(torch::equal(sd.tensors.at("features.0.bias"), w.at("features.0.bias")));
  EXPECT_TRUE(torch::equal(sd.tensors.at("classifier.6.bias"), torch::arange(1000, torch::kFloat)));
  EXPECT_EQ(sd.provenance.rfind("partial_zip.pt sha256:", 0), 0u) << sd.provenance;
  EXPECT_EQ(sd.provenance.size(), std::string("partial_zip.pt sha256:").size() + 64);
  // Loading it into the network names the first missing key.
  nn::Vgg16 net({});
  std::string msg = user_error_message([&] { net.load(sd); });
  EXPECT_NE(msg.find("features.2.weight"), std::string::npos) << msg;
}

TEST(Vgg16, LegacyFormatReadsAsTheZipFormat) {
  // The same dict saved by python3-torch in both formats (make_vgg_fixture.py).
  nn::StateDict legacy = nn::read_state_dict(fixture_dir() + "/partial_legacy.pt");
  nn::StateDict zip = nn::read_state_dict(fixture_dir() + "/partial_zip.pt");
  ASSERT_EQ(legacy.tensors.size(), zip.tensors.size());
  for (auto& [k, t] : zip.tensors) {
    ASSERT_TRUE(legacy.tensors.count(k)) << k;
    EXPECT_TRUE(torch::equal(legacy.tensors.at(k), t)) << k;
  }
  EXPECT_TRUE(torch::equal(legacy.tensors.at("classifier.6.bias"), torch::arange(1000, torch::kFloat)));
  EXPECT_EQ(legacy.provenance.rfind("partial_legacy.pt sha256:", 0), 0u) << legacy.provenance;
}

TEST(Vgg16, LegacyAndZipWeightsGiveBitIdenticalCropFeatures) {
  // A full VGG-16 whose weights are strided views of small storages (make_legacy_fixture.py).
  nn::StateDict legacy = nn::read_state_dict(fixture_dir() + "/vgg16_strided_legacy.pt");
  nn::StateDict zip = nn::read_state_dict(fixture_dir() + "/vgg16_strided_zip.pt");
  ASSERT_EQ(legacy.tensors.size(), 26u);
  ASSERT_EQ(zip.tensors.size(), 26u);
  for (auto& [k, t] : zip.tensors) EXPECT_TRUE(torch::equal(legacy.tensors.at(k), t)) << k;
  // w[o, i, y, x] = base[o + 3i + 7y + 2x]: the strided layout survived.
  const at::Tensor w = zip.tensors.at("features.0.weight");
  EXPECT_EQ(w.sizes(), at::IntArrayRef({64, 3, 3, 3}));
  EXPECT_EQ(w[0][1][0][0].item<float>(), w[3][0][0][0].item<float>());  // base[3] both ways
  EXPECT_EQ(w[0][0][1][0].item<float>(), w[7][0][0][0].item<float>());  // base[7]
  nn::Vgg16Options vo;
  vo.padding = nn::Padding::none;
  nn::Vgg16 a(vo), b(vo);
  a.load(legacy);
  b.load(zip);
  torch::manual_seed(3);
  const at::Tensor x = torch::rand({2, 3, 196, 212});
  const at::Tensor fa = a.forward(x, nn::vgg16_tap_index("relu5_3"));
  const at::Tensor fb = b.forward(x, nn::vgg16_tap_index("relu5_3"));
  EXPECT_EQ(fa.sizes(), at::IntArrayRef({2, 512, 1, 2}));
  EXPECT_TRUE(torch::equal(fa, fb));
  EXPECT_GT(fa.abs().sum().item<double>(), 0.0);
}

TEST(Vgg16, TruncatedLegacyFileNamesTheFile) {
  const std::string src = fixture_dir() + "/partial_legacy.pt";
  std::ifstream in(src, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  TempDir dir;
  for (std::size_t cut : {bytes.size() - 100, bytes.size() / 2, std::size_t(40)}) {
    const std::string p = (dir / "cut.pth");
    write_text(p, bytes.substr(0, cut));
    std::string msg = user_error_message([&] { nn::read_state_dict(p); });
    EXPECT_NE(msg.find("cut.pth"), std::string::npos) << msg;
    EXPECT_NE(msg.find("legacy"), std::string::npos) << msg;
  }
}

TEST(Vgg16, ShapeMismatchNamesKeyAndBothShapes) {
  nn::StateDict sd;
  sd.tensors = fixture_vgg_weights();
  sd.tensors["features.5.weight"] = torch::zeros({128, 32, 3, 3});
  sd.provenance = "w.pt sha256:00";
  nn::Vgg16 net({});
  std::string msg = user_error_message([&] { net.load(sd); });
  EXPECT_NE(msg.find("features.5.weight"), std::string::npos) << msg;
  EXPECT_NE(msg.find("[128, 32, 3, 3]"), std::string::npos) << msg;
  EXPECT_NE(msg.find("[128, 64, 3, 3]"), std::string::npos) << msg;
  EXPECT_NE(msg.find("w.pt"), std::string::npos) << msg;
}

TEST(Vgg16, ZipAndHdf5WeightsGiveTheSameNetwork) {
  TempDir dir;
  write_fixture_weights_zip(dir / "w.pt");
  nn::write_state_dict_h5(dir / "w.h5", fixture_vgg_weights());
  nn::Vgg16Options a, b;
  a.weights = dir / "w.pt";
  b.weights = dir / "w.h5";
  a.padding = b.padding = nn::Padding::zeros;
  nn::Vgg16 na(a), nb(b);
  EXPECT_FALSE(na.random_init());
  EXPECT_EQ(na.provenance().rfind("w.pt sha256:", 0), 0u);
  EXPECT_EQ(nb.provenance().rfind("w.h5 sha256:", 0), 0u);
  torch::NoGradGuard g;
  at::Tensor x = fixture_image(5, 24, 24);
  EXPECT_TRUE(torch::equal(na.forward(x, 9), nb.forward(x, 9)));
  // Extra keys (classifier.*) are ignored.
  auto with_extra = fixture_vgg_weights();
  with_extra["classifier.0.weight"] = torch::zeros({4, 4});
  nn::write_state_dict_h5(dir / "x.h5", with_extra);
  nn::Vgg16Options c = b;
  c.weights = dir / "x.h5";
  nn::Vgg16 nc(c);
  EXPECT_TRUE(torch::equal(na.forward(x, 9), nc.forward(x, 9)));
}

TEST(Vgg16, RejectsFilesThatAreNotWeights) {
  TempDir dir;
  write_text(dir / "notes.txt", "hello");
  EXPECT_NE(user_error_message([&] { nn::read_state_dict(dir / "notes.txt"); }).find("neither"), std::string::npos);
  EXPECT_NE(user_error_message([&] { nn::read_state_dict(dir / "missing.pt"); }).find("does not exist"),
            std::string::npos);
  // A zip archive that is not a torch.save pickle (an .npz).
  write_npz(dir / "a.npz", {{"x", NpyArray::from_float({1, 2}, {2}, false)}});
  std::string msg = user_error_message([&] { nn::read_state_dict(dir / "a.npz"); });
  EXPECT_NE(msg.find("not a state dict"), std::string::npos) << msg;
  // A truncated zip.
  write_fixture_weights_zip(dir / "w.pt");
  truncate_file(dir / "w.pt", 5000);
  EXPECT_FALSE(user_error_message([&] { nn::read_state_dict(dir / "w.pt"); }).empty());
  // An HDF5 file of another kind.
  nn::write_state_dict_h5(dir / "w.h5", {{"features.0.weight", torch::zeros({64, 3, 3, 3})}});
  nn::Vgg16Options o;
  o.weights = dir / "w.h5";
  msg = user_error_message([&] { nn::Vgg16 n(o); });
  EXPECT_NE(msg.find("features.0.bias"), std::string::npos) << msg;
}

TEST(Vgg16, RandomInitIsSeededAndFollowsTorchvisionsRule) {
  nn::Vgg16Options a;
  a.seed = 7;
  nn::Vgg16 n1(a), n2(a);
  a.seed = 8;
  nn::Vgg16 n3(a);
  EXPECT_TRUE(n1.random_init());
  EXPECT_EQ(n1.provenance(), "random-init(seed=7)");
  auto p1 = n1.parameters(), p2 = n2.parameters(), p3 = n3.parameters();
  ASSERT_EQ(p1.size(), 26u);
  EXPECT_TRUE(torch::equal(p1[0], p2[0]));
  EXPECT_FALSE(torch::equal(p1[0], p3[0]));
  // Kaiming normal, fan_out: std = sqrt(2 / (out * 9)); zero bias.
  const double expected = std::sqrt(2.0 / (512 * 9));
  EXPECT_NEAR(p1[24].std().item<double>(), expected, 0.01 * expected);
  EXPECT_EQ(p1[25].abs().sum().item<double>(), 0.0);
  for (const auto& p : p1) EXPECT_FALSE(p.requires_grad());
}

TEST(Vgg16, GradientsFlowToTheInput) {
  auto net = fixture_net(nn::Padding::replicate);
  at::Tensor x = fixture_image(9, 16, 16).requires_grad_(true);
  net->forward(x, 3).sum().backward();
  ASSERT_TRUE(x.grad().defined());
  EXPECT_GT(x.grad().abs().sum().item<double>(), 0.0);
  for (const auto& p : net->parameters()) EXPECT_FALSE(p.grad().defined());
}

TEST(Vgg16, NormalizeMatchesTheFormula) {
  at::Tensor x = torch::full({1, 3, 2, 2}, 0.5);
  at::Tensor y = nn::normalize(x, nn::Normalization::imagenet());
  EXPECT_FLOAT_EQ(y[0][0][0][0].item<float>(), (0.5f - 0.485f) / 0.229f);
  EXPECT_FLOAT_EQ(y[0][2][1][1].item<float>(), (0.5f - 0.406f) / 0.225f);
}

}  // namespace
}  // namespace epe::test
