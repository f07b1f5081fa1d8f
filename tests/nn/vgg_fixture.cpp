#include "vgg_fixture.h"

#include <torch/serialize.h>
#include <torch/torch.h>

#include <cmath>
#include <fstream>

#include "epe/nn/vgg16.h"

namespace epe::test {

std::uint64_t fixture_splitmix(std::uint64_t stream, std::uint64_t i) {
  std::uint64_t z = i + (stream << 32) + 0x9E3779B97F4A7C15ULL;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

double fixture_uniform(std::uint64_t stream, std::uint64_t i) {
  const double u = static_cast<double>(fixture_splitmix(stream, i) >> 40) / static_cast<double>(1 << 24);
  return 2.0 * u - 1.0;
}

std::map<std::string, at::Tensor> fixture_vgg_weights() {
  static const int in[13] = {3, 64, 64, 128, 128, 256, 256, 256, 512, 512, 512, 512, 512};
  static const int out[13] = {64, 64, 128, 128, 256, 256, 256, 512, 512, 512, 512, 512, 512};
  std::map<std::string, at::Tensor> sd;
  for (int l = 0; l < 13; ++l) {
    at::Tensor w = torch::empty({out[l], in[l], 3, 3}, torch::kFloat);
    const double bound = std::sqrt(6.0 / (in[l] * 9.0));
    float* p = w.data_ptr<float>();
    for (int64_t i = 0; i < w.numel(); ++i) p[i] = static_cast<float>(fixture_uniform(2 * l, i) * bound);
    at::Tensor b = torch::empty({out[l]}, torch::kFloat);
    for (int64_t i = 0; i < b.numel(); ++i)
      b.data_ptr<float>()[i] = static_cast<float>(fixture_uniform(2 * l + 1, i) * 0.05);
    sd[nn::vgg16_keys()[2 * l]] = w;
    sd[nn::vgg16_keys()[2 * l + 1]] = b;
  }
  return sd;
}

at::Tensor fixture_image(std::uint64_t stream, int h, int w) {
  at::Tensor x = torch::empty({1, 3, h, w}, torch::kFloat);
  float* p = x.data_ptr<float>();
  for (int64_t i = 0; i < x.numel(); ++i) p[i] = static_cast<float>((fixture_uniform(stream, i) + 1.0) / 2.0);
  return x;
}

cv::Mat fixture_frame_u8(std::uint64_t stream, int h, int w) {
  cv::Mat m(h, w, CV_8UC3);
  for (int c = 0; c < 3; ++c)
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x)
        m.at<cv::Vec3b>(y, x)[c] =
            static_cast<unsigned char>(fixture_splitmix(stream, (static_cast<std::uint64_t>(c) * h + y) * w + x) >> 56);
  return m;
}

void write_fixture_weights_zip(const std::string& path) {
  c10::impl::GenericDict d(c10::StringType::get(), c10::TensorType::get());
  for (const auto& [k, t] : fixture_vgg_weights()) d.insert(k, t);
  std::vector<char> bytes = torch::pickle_save(d);
  std::ofstream(path, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

std::string fixture_dir() {
  return EPE_FIXTURES_DIR "/vgg";
}

}  // namespace epe::test
