// `epe merge crops`: joins the shard stores of `epe crops --shard I/N` into one crop store.
#include <algorithm>
#include <filesystem>
#include <memory>

#include "epe/core/atomic_file.h"
#include "epe/core/error.h"
#include "epe/core/log.h"
#include "epe/core/options.h"
#include "epe/core/progress.h"
#include "epe/core/timer.h"
#include "epe/crops/crop_store.h"
#include "epe/crops/crops.h"

namespace fs = std::filesystem;

namespace epe {

namespace {

template <class T>
std::string text(const T& v) {
  return cat(v);
}
std::string text(const std::array<double, 3>& v) {
  return cat(v[0], " ", v[1], " ", v[2]);
}

// The first metadata attribute in which the stores at `pa` and `pb` differ, as a sentence
// ("" when they agree).
std::string meta_difference(const CropStoreMeta& a, const std::string& pa, const CropStoreMeta& b,
                            const std::string& pb) {
  std::string d;
  auto cmp = [&](const char* name, const auto& x, const auto& y) {
    if (d.empty() && !(x == y))
      d = cat("attribute '", name, "' is '", text(x), "' in '", pa, "' but '", text(y), "' in '", pb, "'");
  };
  cmp("name", a.name, b.name);
  cmp("backbone", a.backbone, b.backbone);
  cmp("layer", a.layer, b.layer);
  cmp("padding", a.padding, b.padding);
  cmp("norm", a.norm, b.norm);
  cmp("norm_mean", a.norm_mean, b.norm_mean);
  cmp("norm_std", a.norm_std, b.norm_std);
  cmp("mode", a.mode, b.mode);
  cmp("crop_size", a.crop_size, b.crop_size);
  cmp("stride", a.stride, b.stride);
  cmp("seed", a.seed, b.seed);
  cmp("weights", a.weights, b.weights);
  cmp("dim", a.dim, b.dim);
  return d;
}

}  // namespace

MergeResult merge_crop_shards(const std::vector<std::string>& shards, const std::string& out, bool force,
                              const std::string& command, Progress* progress) {
  const Timer t0;
  EPE_CHECK(!out.empty(), "option --out is required");
  EPE_CHECK(!shards.empty(), "epe merge crops: no shard stores given");
  check_output_path(out, force, "--out");
  for (const std::string& p : shards)
    EPE_CHECK(fs::absolute(p).lexically_normal() != fs::absolute(out).lexically_normal(), "option --out: '", out,
              "' is also one of the shards to merge");

  // Open every shard (CropStore checks that it is complete and consistent) and order them.
  std::vector<std::unique_ptr<CropStore>> stores;
  std::vector<ShardRecord> records;
  for (const std::string& p : shards) {
    stores.push_back(std::make_unique<CropStore>(p));
    records.push_back(stores.back()->shard_record());
  }
  const std::vector<std::size_t> order = order_shards(records, shards);
  const CropStore& first = *stores[order[0]];
  EPE_CHECK(!records[order[0]].list_sha256.empty(), "'", first.path(), "' does not record its list's checksum");
  for (std::size_t k : order) {
    const CropStore& s = *stores[k];
    const auto [begin, end] = records[k].rows();
    EPE_CHECK(s.frames_done() == end - begin, "'", s.path(), "' (shard ", records[k].shard.label(), ") has ",
              s.frames_done(), " of its ", end - begin, " rows done");
    if (&s == &first) continue;
    const std::string options = first_line_difference(first.attr("options"), s.attr("options"));
    EPE_CHECK(options.empty(), "'", s.path(), "' was computed with other options than '", first.path(), "' (", options,
              "); all shards must come from the same command but for --shard and --out");
    const std::string meta = meta_difference(s.meta(), s.path(), first.meta(), first.path());
    EPE_CHECK(meta.empty(), "the shards were not computed alike: ", meta);
  }

  std::int64_t total = 0;
  for (const auto& s : stores) total += s->size();
  if (progress) progress->set_total(total);

  const std::string partial = out + ".partial";
  std::error_code ec;
  fs::remove(partial, ec);
  MergeResult res;
  try {
    CropStoreWriter w(partial, first.meta(), command, first.attr("options"));
    ShardRecord whole = records[order[0]];
    whole.shard = Shard{};
    w.record_list(whole);
    std::int64_t done = 0, skipped = 0;
    const std::int64_t block = 8192;
    for (std::size_t k : order) {
      const CropStore& s = *stores[k];
      const std::int32_t offset = static_cast<std::int32_t>(w.images());
      for (std::size_t i = 0; i < s.image_paths().size(); ++i)
        w.add_image(s.image_paths()[i], s.image_sizes()[i][0], s.image_sizes()[i][1]);
      for (std::int64_t b = 0; b < s.size(); b += block) {
        const std::int64_t n = std::min(block, s.size() - b);
        std::vector<CropBox> boxes(s.boxes().begin() + b, s.boxes().begin() + b + n);
        for (CropBox& x : boxes) x.image += offset;
        // float16 -> float32 -> float16 is exact, so the features are bit-identical.
        const std::vector<float> f = s.features(b, n);
        w.add_crops(boxes.data(), f.data(), n);
        if (progress) progress->add(n);
      }
      done += s.frames_done();
      skipped += s.frames_skipped();
      w.commit(done, skipped);
      res.frames += static_cast<std::int64_t>(s.image_paths().size());
    }
    res.crops = w.crops();
    w.finish();
  } catch (...) {
    fs::remove(partial, ec);  // nothing half-written stays behind
    throw;
  }
  stores.clear();
  fs::rename(partial, out, ec);
  EPE_CHECK(!ec, "cannot rename '", partial, "' to '", out, "': ", ec.message());
  fsync_path(fs::absolute(out).parent_path().string());
  res.out = out;
  res.shards = static_cast<int>(order.size());
  res.bytes = static_cast<std::int64_t>(fs::file_size(out, ec));
  res.seconds = t0.seconds();
  return res;
}

}  // namespace epe
