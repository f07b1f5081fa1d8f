#pragma once
// C++ mirror of tests/fixtures/vgg/make_vgg_fixture.py: the same weights and inputs, derived
// from splitmix64 exactly as the script does, so the committed reference outputs apply.

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <map>
#include <opencv2/core/mat.hpp>
#include <string>

namespace epe::test {

std::uint64_t fixture_splitmix(std::uint64_t stream, std::uint64_t i);
// The script's hash_uniform: value i of `stream` in [-1, 1).
double fixture_uniform(std::uint64_t stream, std::uint64_t i);
// The script's fixture_state_dict(): 26 tensors, keys features.N.weight/bias.
std::map<std::string, at::Tensor> fixture_vgg_weights();
// fixture_image(stream, h, w): [1, 3, h, w] float32 in [0, 1).
at::Tensor fixture_image(std::uint64_t stream, int h, int w);
// fixture_frame_u8(stream, h, w): CV_8UC3, R G B.
cv::Mat fixture_frame_u8(std::uint64_t stream, int h, int w);
// Writes the fixture weights the way torch.save does (zip), for --vgg.
void write_fixture_weights_zip(const std::string& path);

std::string fixture_dir();  // tests/fixtures/vgg

}  // namespace epe::test
