#include "epe/metrics/color_transfer.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <mutex>
#include <opencv2/imgproc.hpp>

#include "epe/core/atomic_file.h"
#include "epe/core/error.h"
#include "epe/core/progress.h"
#include "epe/core/thread_pool.h"
#include "epe/core/timer.h"
#include "epe/io/file_list.h"
#include "epe/io/image.h"
#include "epe/metrics/features.h"

namespace fs = std::filesystem;

namespace epe {

void ColorTransferOptions::check() const {
  EPE_CHECK(!list.empty(), "option --list is required");
  EPE_CHECK(!reference.empty(), "option --reference is required");
  EPE_CHECK(!out.empty(), "option --out is required");
}

namespace {

cv::Mat to_lab(const cv::Mat& rgb) {
  cv::Mat lab;
  cv::cvtColor(rgb, lab, cv::COLOR_RGB2Lab);
  return lab;
}

// Per-channel sums and sums of squares of a Lab frame.
void accumulate(const cv::Mat& lab, double sum[3], double sq[3]) {
  for (int r = 0; r < lab.rows; ++r) {
    const cv::Vec3f* p = lab.ptr<cv::Vec3f>(r);
    double s[3] = {0, 0, 0}, q[3] = {0, 0, 0};
    for (int c = 0; c < lab.cols; ++c)
      for (int k = 0; k < 3; ++k) {
        s[k] += p[c][k];
        q[k] += double(p[c][k]) * p[c][k];
      }
    for (int k = 0; k < 3; ++k) {
      sum[k] += s[k];
      sq[k] += q[k];
    }
  }
}

LabStats finish_stats(const double sum[3], const double sq[3], std::int64_t n) {
  LabStats s;
  s.pixels = n;
  for (int k = 0; k < 3; ++k) {
    s.mean[k] = sum[k] / double(n);
    s.std[k] = std::sqrt(std::max(0.0, sq[k] / double(n) - s.mean[k] * s.mean[k]));
  }
  return s;
}

}  // namespace

LabStats lab_stats(const std::string& src, int threads, Progress* progress) {
  const ImageSet set = read_image_set(src);
  ThreadPool pool(threads > 0 ? std::size_t(threads) : 0);
  std::mutex m;
  double sum[3] = {0, 0, 0}, sq[3] = {0, 0, 0};
  std::int64_t n = 0;
  pool.parallel_for(set.images.size(), [&](std::size_t i) {
    cv::Mat lab;
    try {
      lab = to_lab(read_image(set.images[i]));
    } catch (const UserError& e) {
      throw UserError(cat(set.where(i), ": ", e.what()));
    }
    double s[3] = {0, 0, 0}, q[3] = {0, 0, 0};
    accumulate(lab, s, q);
    std::lock_guard<std::mutex> lock(m);
    for (int k = 0; k < 3; ++k) {
      sum[k] += s[k];
      sq[k] += q[k];
    }
    n += static_cast<std::int64_t>(lab.total());
    if (progress) progress->add(1);
  });
  return finish_stats(sum, sq, n);
}

cv::Mat reinhard_transfer(const cv::Mat& rgb, const LabStats& t) {
  cv::Mat lab = to_lab(rgb);
  double sum[3] = {0, 0, 0}, sq[3] = {0, 0, 0};
  accumulate(lab, sum, sq);
  const LabStats s = finish_stats(sum, sq, static_cast<std::int64_t>(lab.total()));
  double gain[3];
  for (int k = 0; k < 3; ++k) gain[k] = s.std[k] > 1e-6 ? t.std[k] / s.std[k] : 1.0;
  for (int r = 0; r < lab.rows; ++r) {
    cv::Vec3f* p = lab.ptr<cv::Vec3f>(r);
    for (int c = 0; c < lab.cols; ++c)
      for (int k = 0; k < 3; ++k) p[c][k] = static_cast<float>((p[c][k] - s.mean[k]) * gain[k] + t.mean[k]);
  }
  cv::Mat out;
  cv::cvtColor(lab, out, cv::COLOR_Lab2RGB);
  cv::min(cv::max(out, 0.0), 1.0, out);
  return out;
}

ColorTransferResult color_transfer(const ColorTransferOptions& o, Progress* progress) {
  o.check();
  const Timer t0;
  check_output_path(o.out, o.force);
  ColorTransferResult r;
  r.target = lab_stats(o.reference, o.threads);
  const FileList list = read_image_list(o.list);
  const std::string name = o.name.empty() ? fs::path(o.list).stem().string() + "-color-transfer" : o.name;
  AtomicDir dir(o.out, o.force);
  const fs::path tmp = dir.temp_path();
  fs::create_directories(tmp / "images");
  if (progress) progress->set_total(static_cast<std::int64_t>(list.rows.size()));
  std::vector<std::vector<std::string>> rows(list.rows.size());
  ThreadPool pool(o.threads > 0 ? std::size_t(o.threads) : 0);
  pool.parallel_for(list.rows.size(), [&](std::size_t i) {
    const ListRow& row = list.rows[i];
    char file[32];
    std::snprintf(file, sizeof file, "%06zu.png", i);
    try {
      write_png((tmp / "images" / file).string(), reinhard_transfer(read_image(row.image()), r.target));
    } catch (const UserError& e) {
      throw UserError(at_line(list.path, row.line, e.what()));
    }
    // Same row, new image: labels and G-buffers still describe the frame (layout is unchanged).
    rows[i] = row.fields;
    rows[i][0] = (tmp / "images" / file).string();  // written relative to the list: images/NNNNNN.png
    if (progress) progress->add(1);
  });
  // The new images are written relative to the list (so the folder can move); other columns absolute.
  for (auto& row : rows)
    for (auto& f : row)
      if (!f.empty()) f = fs::absolute(f).lexically_normal().string();
  r.list = (fs::path(o.out) / (name + ".csv")).string();
  write_file_list((tmp / (name + ".csv")).string(), rows, list.format);
  dir.commit();
  r.frames = static_cast<std::int64_t>(rows.size());
  r.seconds = t0.seconds();
  return r;
}

}  // namespace epe
