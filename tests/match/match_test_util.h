#pragma once
// Helpers of the match tests: crop stores of given features, seeded unit vectors, brute force.
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "epe/core/error.h"
#include "epe/core/rng.h"
#include "epe/crops/crop_store.h"

namespace epe::test {

// A crop store with the given features ([n, d]); crop i sits on frame i % frames at a box
// derived from i.
inline void write_crops(const std::string& path, const std::vector<float>& f, int d, int frames = 3, int h = 300,
                        int w = 400, const std::vector<CropBox>* boxes_in = nullptr,
                        const std::vector<std::string>* paths = nullptr) {
  CropStoreMeta m;
  m.name = std::filesystem::path(path).stem().string();
  m.dim = d;
  CropStoreWriter wr(path, m, "test", "");
  const std::int64_t n = static_cast<std::int64_t>(f.size()) / d;
  for (int i = 0; i < frames; ++i) wr.add_image(paths ? (*paths)[i] : cat("frame", i, ".png"), h, w);
  std::vector<CropBox> boxes;
  if (boxes_in) {
    boxes = *boxes_in;
  } else {
    for (std::int64_t i = 0; i < n; ++i) {
      const int r = static_cast<int>((i * 7) % (h - 196 + 1)), c = static_cast<int>((i * 13) % (w - 196 + 1));
      boxes.push_back({static_cast<std::int32_t>(i % frames), r, r + 196, c, c + 196});
    }
  }
  wr.add_crops(boxes.data(), f.data(), n);
  wr.commit(frames, 0);
  wr.finish();
}

inline std::vector<float> random_unit(std::int64_t n, int d, std::uint64_t seed, int clusters = 0) {
  Rng rng(seed);
  std::vector<float> centres;
  for (int c = 0; c < clusters * d; ++c) centres.push_back(static_cast<float>(rng.normal()));
  std::vector<float> v(n * d);
  for (std::int64_t i = 0; i < n; ++i) {
    double ss = 0;
    const std::int64_t c = clusters ? static_cast<std::int64_t>(rng.uniform_int(clusters)) : 0;
    for (int j = 0; j < d; ++j) {
      float x = static_cast<float>(rng.normal());
      if (clusters) x = centres[c * d + j] + 0.25f * x;
      v[i * d + j] = x;
      ss += static_cast<double>(x) * x;
    }
    for (int j = 0; j < d; ++j) v[i * d + j] = static_cast<float>(v[i * d + j] / std::sqrt(ss));
  }
  return v;
}

// Brute force in double: for each query the k best (score desc, index asc).
inline std::vector<std::int64_t> brute_force(const std::vector<float>& t, const std::vector<float>& q, int d, int k) {
  const std::int64_t nt = t.size() / d, nq = q.size() / d;
  std::vector<std::int64_t> out;
  for (std::int64_t i = 0; i < nq; ++i) {
    std::vector<std::pair<double, std::int64_t>> s;
    for (std::int64_t j = 0; j < nt; ++j) {
      double x = 0;
      for (int e = 0; e < d; ++e) x += static_cast<double>(q[i * d + e]) * t[j * d + e];
      s.emplace_back(-x, j);
    }
    std::partial_sort(s.begin(), s.begin() + k, s.end());
    for (int e = 0; e < k; ++e) out.push_back(s[e].second);
  }
  return out;
}

}  // namespace epe::test
