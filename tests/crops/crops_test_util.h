#pragma once
// Small inputs shared by the crops suites: random frames, image lists, quiet options.

#include <opencv2/core.hpp>
#include <string>
#include <vector>

#include "epe/core/rng.h"
#include "epe/crops/crops.h"
#include "epe/io/file_list.h"
#include "epe/io/image.h"
#include "test_util.h"

namespace epe::test {

// A random RGB frame written as PNG.
inline std::string write_frame(const TempDir& dir, const std::string& name, int h, int w, std::uint64_t seed) {
  cv::Mat m(h, w, CV_8UC3);
  Rng rng(seed);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      for (int c = 0; c < 3; ++c)
        m.at<cv::Vec3b>(y, x)[c] = static_cast<unsigned char>((x * 3 + y * 5 + c * 40) % 200 + rng.uniform_int(56));
  const std::string p = dir / name;
  write_png(p, m);
  return p;
}

inline std::string write_list(const TempDir& dir, const std::string& name, const std::vector<std::string>& images) {
  std::vector<std::vector<std::string>> rows;
  for (const auto& i : images) rows.push_back({i});
  write_file_list(dir / name, rows);
  return dir / name;
}

inline CropsOptions quiet_options(const std::string& list, const std::string& out) {
  CropsOptions o;
  o.list = list;
  o.out = out;
  o.decode_threads = 1;
  return o;
}

}  // namespace epe::test
