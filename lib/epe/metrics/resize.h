#pragma once
// How feature extractors resize frames (`--resize`), so that FID/KID/KVD match the tables of the
// tools that published them:
//   clean      clean-fid's default: PIL's Image.resize(BICUBIC) on each channel as float32 — the
//              separable cubic convolution (a = -0.5) whose support widens with the reduction
//              factor (antialiased), normalised weights, double accumulation, horizontal pass
//              first — then clipped to the value range.
//   legacy-tf  torch-fidelity / pytorch-fid's TF1 bilinear: source coordinate = destination
//              index × in/out (no half-pixel offset, align_corners=False), neighbours clamped to
//              the edge, float32 arithmetic. Aliases when shrinking, as TF1 did.
//   opencv     epe's first behaviour: OpenCV's area averaging when both sides shrink, bicubic
//              otherwise.
// Written from the algorithms (PIL's Resample.c semantics, torch-fidelity's
// interpolate_bilinear_2d_like_tensorflow1x); tests/fixtures/metrics/make_resize_fixture.py
// holds PIL's and the legacy function's outputs.

#include <opencv2/core/mat.hpp>
#include <string>

#include "epe/core/options.h"

namespace epe {

enum class ResizeMode { clean, legacy_tf, opencv };
const Choices<ResizeMode>& resize_modes();  // "clean", "legacy-tf", "opencv"
// "clean" | "legacy-tf" | "opencv"; UserError naming `option` otherwise.
ResizeMode parse_resize_mode(const std::string& s, const std::string& option = "--resize");
const char* to_string(ResizeMode m);

// m: CV_32F with any number of channels (frames are float RGB in [0, 1]). Returns h × w, same
// type. `clean` clips to [lo, hi] afterwards (clean-fid clips to the pixel range); the others do
// not need to (they interpolate, never overshoot).
cv::Mat resize_frame(const cv::Mat& m, int h, int w, ResizeMode mode, float lo = 0.f, float hi = 1.f);

// The two exact algorithms on their own (no clipping).
cv::Mat resize_pil_bicubic(const cv::Mat& m, int h, int w);
cv::Mat resize_tf1_bilinear(const cv::Mat& m, int h, int w);

}  // namespace epe
