#include "epe/io/gbuffers.h"

#include <filesystem>

#include "epe/core/atomic_file.h"
#include "epe/core/error.h"
#include "epe/io/h5.h"
#include "epe/io/npz.h"

namespace epe {

namespace {
constexpr int kFormatVersion = 1;

bool is_npz(const std::string& path) {
  std::string ext = std::filesystem::path(path).extension().string();
  return ext == ".npz";
}

std::vector<std::string> default_names(int c) {
  std::vector<std::string> n;
  for (int i = 0; i < c; ++i) n.push_back(cat("c", i));
  return n;
}

GBufferHeader header_from_h5(const H5::H5File& f, const std::string& path) {
  GBufferHeader h;
  h.format = "epe-hdf5";
  auto dims = h5::shape(f, "/gbuffers");
  EPE_CHECK(dims.size() == 3, "G-buffer file '", path, "': /gbuffers must be H x W x C, found ", dims.size(),
            " dimension(s)");
  h.height = static_cast<int>(dims[0]);
  h.width = static_cast<int>(dims[1]);
  h.channels = static_cast<int>(dims[2]);
  try {
    H5::DataSet ds = f.openDataSet("/gbuffers");
    h.names = h5::has_attr(ds, "channels") ? h5::attr_strings(ds, "channels") : default_names(h.channels);
  } catch (const H5::Exception& e) {
    throw UserError(cat("G-buffer file '", path, "' is damaged: ", e.getDetailMsg()));
  }
  EPE_CHECK(static_cast<int>(h.names.size()) == h.channels, "G-buffer file '", path, "': attribute 'channels' names ",
            h.names.size(), " channels but /gbuffers has ", h.channels);
  return h;
}

H5::H5File open_gbuffer_file(const std::string& path) {
  H5::H5File f = h5::open_file(path);
  auto tag = h5::read_format(f);
  EPE_CHECK(tag.name.empty() || tag.name == "gbuffers", "'", path, "' is a '", tag.name,
            "' store, not a G-buffer file");
  EPE_CHECK(tag.name.empty() || (tag.version >= 1 && tag.version <= kFormatVersion), "G-buffer file '", path,
            "' has format version ", tag.version, "; this epe reads versions 1..", kFormatVersion);
  EPE_CHECK(h5::exists(f, "/gbuffers"), "G-buffer file '", path, "' has no /gbuffers dataset");
  return f;
}
}  // namespace

static void check_npz_gbuffers(const NpyArray& a, const std::string& path) {
  EPE_CHECK(a.shape.size() == 3, "G-buffer file '", path, "': array 'data' must be H x W x C, found ", a.shape.size(),
            " dimension(s)");
  EPE_CHECK(a.dtype == "<f2" || a.dtype == "<f4", "G-buffer file '", path, "': array 'data' has dtype ", a.dtype,
            ", expected float16 or float32");
}

GBufferHeader probe_gbuffers(const std::string& path) {
  if (is_npz(path)) {
    NpyArray a = read_npz_array(path, "data");
    check_npz_gbuffers(a, path);
    GBufferHeader h;
    h.format = "reference-npz";
    h.height = static_cast<int>(a.shape[0]);
    h.width = static_cast<int>(a.shape[1]);
    h.channels = static_cast<int>(a.shape[2]);
    h.names = default_names(h.channels);
    return h;
  }
  std::lock_guard<std::mutex> lock(h5::h5_mutex());
  H5::H5File f = open_gbuffer_file(path);
  return header_from_h5(f, path);
}

GBuffers read_gbuffers(const std::string& path) {
  GBuffers g;
  if (is_npz(path)) {
    NpyArray a = read_npz_array(path, "data");
    check_npz_gbuffers(a, path);
    g.height = static_cast<int>(a.shape[0]);
    g.width = static_cast<int>(a.shape[1]);
    g.channels = static_cast<int>(a.shape[2]);
    g.data = a.to_float();
    g.names = default_names(g.channels);
    g.format = "reference-npz";
    return g;
  }
  std::lock_guard<std::mutex> lock(h5::h5_mutex());
  H5::H5File f = open_gbuffer_file(path);
  GBufferHeader h = header_from_h5(f, path);
  g.height = h.height;
  g.width = h.width;
  g.channels = h.channels;
  g.names = h.names;
  g.format = h.format;
  g.data = h5::read<float>(f, "/gbuffers");
  return g;
}

void write_gbuffers(const std::string& path, const GBuffers& g) {
  EPE_ASSERT(g.data.size() == static_cast<std::size_t>(g.height) * g.width * g.channels, "G-buffer size mismatch");
  EPE_ASSERT(static_cast<int>(g.names.size()) == g.channels, "G-buffer channel names mismatch");
  AtomicFile out(path);
  {
    std::lock_guard<std::mutex> lock(h5::h5_mutex());
    H5::H5File f = h5::create_file(out.temp_path());
    h5::set_attr(f, "epe_format", "gbuffers");
    h5::set_attr(f, "epe_format_version", kFormatVersion);
    h5::WriteOptions opt;
    opt.float16 = true;
    opt.compress = 4;
    opt.chunk = {static_cast<hsize_t>(std::min(g.height, 64)), static_cast<hsize_t>(g.width),
                 static_cast<hsize_t>(g.channels)};
    h5::write(f, "/gbuffers", g.data, {hsize_t(g.height), hsize_t(g.width), hsize_t(g.channels)}, opt);
    try {
      H5::DataSet ds = f.openDataSet("/gbuffers");
      h5::set_attr(ds, "channels", g.names);
      ds.close();
      f.close();  // flushes: an error here must stop the commit
    } catch (const H5::Exception& e) {
      throw UserError(cat("cannot write G-buffer file '", path, "': ", e.getDetailMsg()));
    }
  }
  out.commit();
}

}  // namespace epe
