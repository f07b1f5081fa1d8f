#include "epe/io/list_builder.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <functional>
#include <map>
#include <set>

#include "epe/core/atomic_file.h"
#include "epe/core/error.h"
#include "epe/core/options.h"
#include "epe/core/rng.h"
#include "epe/core/stage_options.h"
#include "epe/io/image_set.h"
#include "epe/io/labels.h"

namespace fs = std::filesystem;

namespace epe {

const Choices<ListLayout>& list_layouts() {
  static const Choices<ListLayout> c{
      {"cityscapes", ListLayout::cityscapes}, {"pfd", ListLayout::pfd},       {"gta5", ListLayout::gta5},
      {"viper", ListLayout::viper},           {"vistas", ListLayout::vistas}, {"carla", ListLayout::carla},
      {"folder", ListLayout::folder}};
  return c;
}

const Choices<RobustColumn>& robust_columns() {
  static const Choices<RobustColumn> c{
      {"auto", RobustColumn::automatic}, {"gt", RobustColumn::gt}, {"none", RobustColumn::none}};
  return c;
}

const Choices<CityscapesIds>& cityscapes_ids() {
  static const Choices<CityscapesIds> c{{"labelIds", CityscapesIds::label_ids}, {"trainIds", CityscapesIds::train_ids}};
  return c;
}

const Choices<CarlaLabels>& carla_label_kinds() {
  static const Choices<CarlaLabels> c{{"raw", CarlaLabels::raw}, {"palette", CarlaLabels::palette}};
  return c;
}

void ListsOptions::check() const {
  EPE_CHECK(!root.empty(), "option --root is required");
  EPE_CHECK(!out.empty(), "option --out is required");
  EPE_CHECK(limit >= 0, "option --limit must be >= 0");
  EPE_CHECK(sample >= 0, "option --sample must be >= 0");
  EPE_CHECK(limit == 0 || sample == 0, "options --limit and --sample exclude each other");
  if (layout != ListLayout::folder)
    EPE_CHECK(images.empty() && labels.empty() && label_colors.empty() && label_remap.empty(),
              "options --images, --labels, --label-colors and --label-remap are for the folder layout; layout '",
              choice_name(list_layouts(), layout), "' knows its folders");
}

namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

bool is_image(const fs::path& p) {
  return is_image_file(p.string());
}

// Regular files under `dir` (recursive, sorted) that `keep` accepts.
std::vector<fs::path> walk(const fs::path& dir, const std::function<bool(const fs::path&)>& keep) {
  std::vector<fs::path> out;
  std::error_code ec;
  for (fs::recursive_directory_iterator it(dir, fs::directory_options::follow_directory_symlink, ec), end;
       it != end && !ec; it.increment(ec))
    if (it->is_regular_file(ec) && keep(it->path())) out.push_back(it->path());
  EPE_CHECK(!ec, "cannot read folder '", dir.string(), "': ", ec.message());
  std::sort(out.begin(), out.end());
  return out;
}

bool is_dir(const fs::path& p) {
  std::error_code ec;
  return fs::is_directory(p, ec);
}

// The first of `candidates` (relative to root) that is a folder; UserError naming the layout,
// the root and what was expected otherwise.
fs::path find_dir(const fs::path& root, const std::vector<std::string>& candidates, const std::string& layout,
                  const std::string& expected) {
  for (auto& c : candidates)
    if (is_dir(root / c)) return root / c;
  std::vector<std::string> there;
  std::error_code ec;
  for (auto& e : fs::directory_iterator(root, ec))
    if (e.is_directory(ec)) there.push_back(e.path().filename().string() + "/");
  std::sort(there.begin(), there.end());
  throw UserError(cat(layout, " layout: no ", join(candidates, " or "), " under '", root.string(), "' (expected ",
                      expected, "; found ", there.empty() ? std::string("no folders") : join(there, " "), ")"));
}

// The path relative to `base` without its extension: the pairing key of files in parallel trees.
std::string rel_key(const fs::path& p, const fs::path& base) {
  fs::path r = p.lexically_relative(base);
  r.replace_extension();
  return r.generic_string();
}

// The integer after the last '-' of a stem ("FinalColor-0000062" -> "62"); CARLA2Real pads frame
// ids with 6 or 7 digits in different folders, so they pair by value.
std::string frame_id(const fs::path& p) {
  const std::string s = p.stem().string();
  const std::size_t dash = s.rfind('-');
  std::string digits = dash == std::string::npos ? s : s.substr(dash + 1);
  if (digits.empty() ||
      !std::all_of(digits.begin(), digits.end(), [](unsigned char c) { return std::isdigit(c) != 0; }))
    return "";
  const std::size_t nz = digits.find_first_not_of('0');
  return nz == std::string::npos ? "0" : digits.substr(nz);
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// What a layout found: keyed images, labels, G-buffers and robust labels, and how to write them.
struct Scan {
  DatasetKind kind = DatasetKind::real;
  std::map<std::string, fs::path> images, labels, gbuffers, robust;
  bool labels_are_robust = false;  // real sets: the label column is robust_labels
  bool robust_from_gt = false;     // robust_labels = the GT map, remapped (format.robust.remap)
  bool keep_unlabeled = false;     // rows for images without a label map
  ListFormat format;
  std::vector<std::string> notes;
};

// Files -> keyed map; UserError when two files give one key.
void add_keyed(std::map<std::string, fs::path>& m, const std::vector<fs::path>& files,
               const std::function<std::string(const fs::path&)>& key) {
  for (auto& f : files) {
    const std::string k = key(f);
    if (k.empty()) continue;
    auto [it, fresh] = m.emplace(k, f);
    EPE_CHECK(fresh, "files '", it->second.string(), "' and '", f.string(), "' pair with the same frame (", k, ")");
  }
}

std::string shipped(const std::string& name, const std::string& what) {
  return resolve_label_table(name, what);
}

void use_robust_from_gt(Scan& s, const ListsOptions& o, const std::string& remap, const std::string& colors,
                        const std::string& what) {
  if (o.robust == RobustColumn::none) {
    s.notes.push_back("robust_labels left empty (--robust none): run `epe segment` to fill them");
    return;
  }
  s.robust_from_gt = true;
  s.format.robust.remap = shipped(remap, "id table");
  if (!colors.empty()) s.format.robust.colors = shipped(colors, "colour table");
  s.notes.push_back(cat("robust_labels = the GT maps (", what, ") mapped to MSeg universal ids by data/mseg/", remap,
                        ".tsv; `epe segment` with an MSeg model replaces them"));
}

void no_robust(Scan& s, const ListsOptions& o, const std::string& why) {
  EPE_CHECK(o.robust != RobustColumn::gt, "option --robust gt: ", why);
  s.notes.push_back("robust_labels left empty (" + why + "): run `epe segment` to fill them");
}

Scan scan_cityscapes(const ListsOptions& o, const fs::path& root) {
  Scan s;
  const std::string split = o.split.empty() ? "train" : o.split;
  const bool coarse = split == "train_extra";
  const fs::path img = find_dir(root,
                                {"leftImg8bit/" + split, "leftImg8bit_trainvaltest/leftImg8bit/" + split,
                                 "leftImg8bit_trainextra/leftImg8bit/" + split},
                                "cityscapes", "leftImg8bit/<split>/<city>/<city>_<seq>_<frame>_leftImg8bit.png");
  const std::string gt_name = coarse ? "gtCoarse" : "gtFine";
  const std::string suffix =
      "_" + gt_name + (o.ids == CityscapesIds::train_ids ? "_labelTrainIds.png" : "_labelIds.png");
  add_keyed(s.images, walk(img, [](const fs::path& p) { return ends_with(p.filename().string(), "_leftImg8bit.png"); }),
            [](const fs::path& p) {
              const std::string n = p.filename().string();
              return n.substr(0, n.size() - std::string("_leftImg8bit.png").size());
            });
  fs::path gt;
  for (const std::string& c : {gt_name + "/" + split, gt_name + "_trainvaltest/" + gt_name + "/" + split,
                               gt_name + "_trainextra/" + gt_name + "/" + split})
    if (is_dir(root / c)) {
      gt = root / c;
      break;
    }
  s.labels_are_robust = true;
  s.keep_unlabeled = true;
  if (gt.empty()) {
    no_robust(s, o, cat("no ", gt_name, "/", split, " folder under the root"));
    return s;
  }
  add_keyed(s.labels, walk(gt, [&](const fs::path& p) { return ends_with(p.filename().string(), suffix); }),
            [&](const fs::path& p) {
              const std::string n = p.filename().string();
              return n.substr(0, n.size() - suffix.size());
            });
  if (o.robust == RobustColumn::none) {
    s.labels.clear();
    s.notes.push_back("robust_labels left empty (--robust none): run `epe segment` to fill them");
    return s;
  }
  use_robust_from_gt(s, o,
                     o.ids == CityscapesIds::train_ids ? "cityscapes-19_to_universal" : "cityscapes-34_to_universal",
                     "", cat("*", suffix));
  s.robust_from_gt = false;  // the label column itself is robust_labels, with the remap
  return s;
}

Scan scan_pfd(const ListsOptions& o, const fs::path& root, const std::string& layout) {
  Scan s;
  s.kind = DatasetKind::synthetic;
  const fs::path img = find_dir(root, {"images"}, layout, "images/<frame>.png and labels/<frame>.png");
  const fs::path lab = find_dir(root, {"labels"}, layout, "images/<frame>.png and labels/<frame>.png");
  add_keyed(s.images, walk(img, is_image), [&](const fs::path& p) { return rel_key(p, img); });
  std::int64_t derived = 0;
  add_keyed(s.labels,
            walk(lab,
                 [&](const fs::path& p) {
                   // DAFormer-style conversions (<frame>_labelTrainIds.png) sit beside the originals.
                   const bool d = ends_with(p.filename().string(), "_labelTrainIds.png");
                   derived += d;
                   return !d && lower(p.extension().string()) == ".png";
                 }),
            [&](const fs::path& p) { return rel_key(p, lab); });
  if (derived)
    s.notes.push_back(cat(derived,
                          " *_labelTrainIds.png files (converted copies) ignored; the original labelIds "
                          "maps are used"));
  s.format.materials = shipped(o.materials.empty() ? "cityscapes-34_to_material" : o.materials, "material table");
  use_robust_from_gt(s, o, "cityscapes-34_to_universal", "", "Cityscapes labelIds, palette PNGs");
  return s;
}

Scan scan_viper(const ListsOptions& o, const fs::path& root) {
  Scan s;
  s.kind = DatasetKind::synthetic;
  const std::string split = o.split.empty() ? "train" : o.split;
  // The root is the dataset's folder (with <split>/), or one split's folder itself.
  const fs::path base =
      is_dir(root / "img") && is_dir(root / "cls") && o.split.empty()
          ? root
          : find_dir(root, {split}, "viper", "<split>/img/<seq>/<seq>_<frame>.jpg and <split>/cls/...");
  const fs::path img = find_dir(base, {"img"}, "viper", "<split>/img/<seq>/<seq>_<frame>.jpg|png");
  const fs::path cls = find_dir(base, {"cls"}, "viper", "<split>/cls/<seq>/<seq>_<frame>.png");
  add_keyed(s.images, walk(img, is_image), [&](const fs::path& p) { return rel_key(p, img); });
  add_keyed(s.labels, walk(cls, [](const fs::path& p) { return lower(p.extension().string()) == ".png"; }),
            [&](const fs::path& p) { return rel_key(p, cls); });
  s.format.gt.colors = shipped("viper_colors", "colour table");  // for maps re-saved as RGB
  s.format.materials = shipped(o.materials.empty() ? "viper_to_material" : o.materials, "material table");
  s.notes.push_back("VIPER labels every 10th frame: frames without a cls/ map are left out");
  no_robust(s, o, "no shipped mapping from VIPER ids to MSeg universal ids");
  return s;
}

Scan scan_vistas(const ListsOptions& o, const fs::path& root) {
  Scan s;
  const std::string split = o.split.empty() ? "training" : o.split;
  const fs::path base =
      is_dir(root / "images") && o.split.empty()
          ? root
          : find_dir(root, {split}, "vistas", "<split>/images/<key>.jpg and <split>/v1.2/labels/<key>.png");
  const fs::path img = find_dir(base, {"images"}, "vistas", "<split>/images/<key>.jpg");
  s.labels_are_robust = true;
  s.keep_unlabeled = true;
  add_keyed(s.images, walk(img, is_image), [&](const fs::path& p) { return rel_key(p, img); });
  fs::path lab;
  for (const char* c : {"v1.2/labels", "labels"})
    if (is_dir(base / c)) {
      lab = base / c;
      break;
    }
  if (lab.empty() || o.robust == RobustColumn::none) {
    if (lab.empty())
      no_robust(s, o, cat("no ", split, "/v1.2/labels or ", split, "/labels folder"));
    else
      s.notes.push_back("robust_labels left empty (--robust none): run `epe segment` to fill them");
    return s;
  }
  add_keyed(s.labels, walk(lab, [](const fs::path& p) { return lower(p.extension().string()) == ".png"; }),
            [&](const fs::path& p) { return rel_key(p, lab); });
  use_robust_from_gt(s, o, "mapillary-public65_to_universal", "vistas-v1.2_colors", "Vistas v1.2 ids");
  return s;
}

Scan scan_carla(const ListsOptions& o, const fs::path& root) {
  Scan s;
  s.kind = DatasetKind::synthetic;
  const fs::path base = is_dir(root / "Frames") ? root : root / "CarlaDataset";
  const std::string expected =
      "CARLA2Real's capture: Frames/FinalColor-<id>.png, SemanticSegmentation/SemanticSegmentation-<id>.png, "
      "GBuffers/GBuffer-<id>/";
  const fs::path frames = find_dir(is_dir(base) ? base : root, {"Frames"}, "carla", expected);
  const fs::path sem = find_dir(base, {"SemanticSegmentation"}, "carla", expected);
  add_keyed(s.images, walk(frames, is_image), frame_id);
  add_keyed(s.labels, walk(sem, [](const fs::path& p) { return lower(p.extension().string()) == ".png"; }), frame_id);
  // G-buffers: per-buffer PNG folders (the capture), else one .npz per frame.
  std::error_code ec;
  for (const char* sub : {"GBuffers", "GBuffersCompressed"}) {
    if (!is_dir(base / sub)) continue;
    for (auto& e : fs::directory_iterator(base / sub, ec)) {
      const bool dir = e.is_directory(ec), npz = lower(e.path().extension().string()) == ".npz";
      if (!dir && !npz) continue;
      const std::string id = frame_id(e.path());
      if (!id.empty() && (dir || !s.gbuffers.count(id))) s.gbuffers[id] = e.path();
    }
  }
  if (is_dir(base / "RobustImages") && o.robust != RobustColumn::none) {
    add_keyed(s.robust, walk(base / "RobustImages", is_image), frame_id);
    s.notes.push_back("robust_labels = RobustImages/ (CARLA2Real's MSeg output)");
  } else if (o.robust == RobustColumn::none) {
    s.notes.push_back("robust_labels left empty (--robust none): run `epe segment` to fill them");
  } else {
    no_robust(s, o, "no RobustImages/ folder and no shipped mapping from CARLA tags to MSeg universal ids");
  }
  if (o.carla_labels == CarlaLabels::raw)
    s.format.gt.channel = 0;
  else
    s.format.gt.colors = shipped("carla_colors", "colour table");
  s.format.materials = shipped(o.materials.empty() ? "carla_to_material" : o.materials, "material table");
  if (!s.gbuffers.empty())
    s.notes.push_back(
        "the gbuffers column names CARLA2Real's per-frame G-buffer sources; pack them into epe G-buffer "
        "files with `epe gbuffers pack --spec carla2real`");
  return s;
}

Scan scan_folder(const ListsOptions& o, const fs::path& root) {
  Scan s;
  s.kind = o.kind;
  const fs::path img = o.images.empty() ? root : root / o.images;
  EPE_CHECK(is_dir(img), "option --images: '", img.string(), "' is not a folder");
  fs::path lab;
  if (!o.labels.empty()) {
    lab = root / o.labels;
    EPE_CHECK(is_dir(lab), "option --labels: '", lab.string(), "' is not a folder");
  }
  // Image files under the image folder, but not those under the label or G-buffer folders.
  auto outside = [&](const fs::path& p, const fs::path& d) {
    return d.empty() || p.lexically_relative(d).empty() || *p.lexically_relative(d).begin() == "..";
  };
  const fs::path gb = o.gbuffers.empty() ? fs::path() : root / o.gbuffers;
  add_keyed(s.images, walk(img, [&](const fs::path& p) { return is_image(p) && outside(p, lab) && outside(p, gb); }),
            [&](const fs::path& p) { return rel_key(p, img); });
  if (!lab.empty())
    add_keyed(s.labels, walk(lab, [](const fs::path& p) { return lower(p.extension().string()) == ".png"; }),
              [&](const fs::path& p) { return rel_key(p, lab); });
  LabelFormat f;
  if (!o.label_colors.empty()) f.colors = resolve_label_table(o.label_colors, "option --label-colors");
  if (!o.label_remap.empty()) f.remap = resolve_label_table(o.label_remap, "option --label-remap");
  if (s.kind == DatasetKind::real) {
    s.labels_are_robust = true;
    s.keep_unlabeled = true;
    s.format.robust = f;
    if (lab.empty()) s.notes.push_back("robust_labels left empty (no --labels): run `epe segment` to fill them");
  } else {
    EPE_CHECK(!lab.empty(), "a synthetic list needs GT label maps: give --labels");
    s.format.gt = f;
    s.format.materials = shipped(o.materials.empty() ? "cityscapes-34_to_material" : o.materials, "material table");
    if (o.robust == RobustColumn::gt) s.notes.push_back("--robust gt needs a mapping to MSeg ids; left empty");
    s.notes.push_back("robust_labels left empty: run `epe segment` to fill them");
  }
  return s;
}

}  // namespace

ListsResult build_list(const ListsOptions& o) {
  o.check();
  const fs::path root = fs::absolute(o.root).lexically_normal();
  EPE_CHECK(is_dir(root), "option --root: '", o.root, "' is not a folder");
  {
    std::error_code ec;
    const fs::path parent = fs::absolute(o.out).parent_path();
    fs::create_directories(parent, ec);
    EPE_CHECK(!ec, "option --out: cannot create folder '", parent.string(), "': ", ec.message());
  }
  check_output_path(o.out, o.force);
  const std::string layout = choice_name(list_layouts(), o.layout);
  Scan s = o.layout == ListLayout::cityscapes ? scan_cityscapes(o, root)
           : o.layout == ListLayout::pfd      ? scan_pfd(o, root, "pfd")
           : o.layout == ListLayout::gta5     ? scan_pfd(o, root, "gta5")
           : o.layout == ListLayout::viper    ? scan_viper(o, root)
           : o.layout == ListLayout::vistas   ? scan_vistas(o, root)
           : o.layout == ListLayout::carla    ? scan_carla(o, root)
                                              : scan_folder(o, root);
  // Synthetic frames outside CARLA's own G-buffer folders: --gbuffers DIR, files by key.
  if (s.kind == DatasetKind::synthetic && !o.gbuffers.empty() && o.layout != ListLayout::carla) {
    const fs::path gb =
        fs::path(o.gbuffers).is_absolute() || o.layout != ListLayout::folder ? fs::path(o.gbuffers) : root / o.gbuffers;
    EPE_CHECK(is_dir(gb), "option --gbuffers: '", gb.string(), "' is not a folder");
    add_keyed(s.gbuffers,
              walk(gb,
                   [](const fs::path& p) {
                     const std::string e = lower(p.extension().string());
                     return e == ".h5" || e == ".npz";
                   }),
              [&](const fs::path& p) { return rel_key(p, gb); });
  }

  ListsResult r;
  r.kind = s.kind;
  r.images = static_cast<std::int64_t>(s.images.size());
  r.labels = static_cast<std::int64_t>(s.labels.size());
  std::vector<std::vector<std::string>> rows;
  for (auto& [key, img] : s.images) {
    auto lab = s.labels.find(key);
    const bool has = lab != s.labels.end();
    if (has)
      ++r.paired;
    else if (!s.labels.empty() || s.kind == DatasetKind::synthetic)
      r.unpaired_images.push_back(img.string());
    if (!has && !s.keep_unlabeled) continue;
    std::string robust;
    if (s.labels_are_robust && has) robust = lab->second.string();
    if (s.robust_from_gt && has) robust = lab->second.string();
    if (auto it = s.robust.find(key); it != s.robust.end()) robust = it->second.string();
    if (s.kind == DatasetKind::real) {
      rows.push_back({img.string(), robust});
    } else {
      auto g = s.gbuffers.find(key);
      rows.push_back({img.string(), robust, g == s.gbuffers.end() ? "" : g->second.string(), lab->second.string()});
    }
  }
  for (auto& [key, lab] : s.labels)
    if (!s.images.count(key)) r.unpaired_labels.push_back(lab.string());
  EPE_CHECK(!rows.empty(), layout, " layout: no ", s.images.empty() ? "images" : "image with its label map",
            " found under '", root.string(), "'",
            s.images.empty() ? "" : cat(" (", s.images.size(), " images, ", s.labels.size(), " label maps)"));
  if (o.limit > 0 && o.limit < static_cast<std::int64_t>(rows.size())) rows.resize(static_cast<std::size_t>(o.limit));
  if (o.sample > 0 && o.sample < static_cast<std::int64_t>(rows.size())) {
    Rng rng(o.seed);
    std::vector<std::vector<std::string>> kept;
    for (std::int64_t i : rng.sample_without_replacement(static_cast<std::int64_t>(rows.size()), o.sample))
      kept.push_back(rows[static_cast<std::size_t>(i)]);
    rows = std::move(kept);
  }
  for (auto& row : rows) {
    r.robust += !row[1].empty();
    if (row.size() == 4) r.gbuffers += !row[2].empty();
  }
  r.rows = static_cast<std::int64_t>(rows.size());
  if (s.kind == DatasetKind::synthetic && r.gbuffers < r.rows)
    s.notes.push_back(cat(r.rows - r.gbuffers,
                          " rows have no G-buffers: make them with `epe gbuffers pack` or "
                          "`epe fake-gbuffers`"));
  s.format.notes = {{"layout", layout}, {"root", root.string()}};
  if (!o.split.empty()) s.format.notes.emplace_back("split", o.split);
  r.format = s.format;
  r.notes = s.notes;
  r.list = o.out;
  // Paths are relative to the list when it lies inside the dataset's root, absolute otherwise.
  const fs::path list_dir = fs::absolute(o.out).parent_path().lexically_normal();
  const bool inside = !list_dir.lexically_relative(root).empty() && *list_dir.lexically_relative(root).begin() != "..";
  write_file_list(o.out, rows, o.plain ? ListFormat{} : s.format, inside ? root.string() : "");
  return r;
}

std::string format_lists_result(const ListsResult& r, int examples) {
  std::string s = cat("lists: ", r.rows, " rows (", to_string(r.kind), " list) -> ", r.list, "\n");
  s += cat("  found ", r.images, " images and ", r.labels, " label maps; ", r.paired,
           " paired; robust_labels filled in ", r.robust, " rows");
  if (r.kind == DatasetKind::synthetic) s += cat("; gbuffers in ", r.gbuffers, " rows");
  s += "\n";
  auto list = [&](const std::vector<std::string>& v, const char* what) {
    if (v.empty()) return;
    s += cat("  ", v.size(), " ", what, ":");
    for (std::size_t i = 0; i < v.size() && static_cast<int>(i) < examples; ++i) s += "\n    " + v[i];
    if (static_cast<int>(v.size()) > examples) s += cat("\n    ... and ", v.size() - examples, " more");
    s += "\n";
  };
  list(r.unpaired_images, "image(s) without a label map");
  list(r.unpaired_labels, "label map(s) without an image");
  if (!r.format.gt.plain()) s += "  GT labels: " + r.format.gt.describe() + "\n";
  if (!r.format.robust.plain()) s += "  robust labels: " + r.format.robust.describe() + "\n";
  if (!r.format.materials.empty()) s += "  materials: " + fs::path(r.format.materials).stem().string() + "\n";
  for (auto& n : r.notes) s += "  note: " + n + "\n";
  return s;
}

namespace {
const Choices<DatasetKind>& dataset_kind_names() {
  static const Choices<DatasetKind> c{{"real", DatasetKind::real}, {"synthetic", DatasetKind::synthetic}};
  return c;
}
}  // namespace

void add_options(OptionSet& s, ListsOptions& o) {
  s.add("layout", &o.layout, "dataset layout", list_layouts()).required().positional();
  s.add("root", &o.root, "the dataset's folder").required();
  add_out_option(s, &o.out, "the list to write (CSV)");
  s.add("split", &o.split,
        "cityscapes: train|val|test|train_extra; viper: train|val|test; vistas: "
        "training|validation|testing (default: the first)");
  s.add("robust", &o.robust, "robust_labels column: gt = GT mapped to MSeg ids; none = left for epe segment",
        robust_columns());
  s.add("ids", &o.ids, "cityscapes GT maps", cityscapes_ids());
  s.add("carla-labels", &o.carla_labels, "carla GT maps: raw = tag in R; palette = CityScapesPalette colours",
        carla_label_kinds());
  s.add("kind", &o.kind, "folder layout: the list's kind", dataset_kind_names());
  s.add("images", &o.images, "folder layout: image folder under the root (default: the root)");
  s.add("labels", &o.labels, "folder layout: label folder under the root, files matched by stem");
  s.add("gbuffers", &o.gbuffers, "synthetic: folder of G-buffer files (<stem>.h5 or .npz)");
  s.add("label-colors", &o.label_colors, "folder layout: colour table of colour-coded label maps");
  s.add("label-remap", &o.label_remap, "folder layout: id table applied to the label ids");
  s.add("materials", &o.materials, "synthetic: GT id -> material table (default: the layout's)");
  s.add("limit", &o.limit, "keep the first N rows (0 = all)");
  s.add("sample", &o.sample, "keep N rows drawn with --seed, in list order (0 = all)");
  s.add("seed", &o.seed, "seed of --sample");
  s.add("plain", &o.plain, "write no `# epe:` lines (for the reference's loaders)");
  add_force_option(s, &o.force, "replace an existing list");
}

}  // namespace epe
