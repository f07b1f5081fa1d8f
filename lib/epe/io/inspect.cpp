#include "epe/io/inspect.h"

#include <cstring>
#include <filesystem>
#include <fstream>

#include "epe/core/error.h"
#include "epe/io/h5.h"
#include "epe/io/npz.h"

namespace epe {

namespace {

std::string indent(const std::string& text, const std::string& pad) {
  std::string out;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t nl = text.find('\n', start);
    out += pad + text.substr(start, nl == std::string::npos ? std::string::npos : nl - start) + "\n";
    if (nl == std::string::npos) break;
    start = nl + 1;
  }
  return out;
}

std::string dims_text(const std::vector<hsize_t>& d) {
  if (d.empty()) return "scalar";
  std::string s;
  for (std::size_t i = 0; i < d.size(); ++i) s += (i ? " x " : "") + std::to_string(d[i]);
  return s;
}

void attributes(const H5::H5Object& obj, const std::string& pad, std::string& out) {
  int n = obj.getNumAttrs();
  for (int i = 0; i < n; ++i) {
    H5::Attribute a = obj.openAttribute(static_cast<unsigned>(i));
    std::string name = a.getName();
    std::string value = h5::attr_as_text(a);
    if (value.find('\n') != std::string::npos)
      out += pad + name + ":\n" + indent(value, pad + "    ");
    else
      out += pad + name + ": " + value + "\n";
  }
}

void walk(const H5::Group& g, const std::string& prefix, std::string& out) {
  hsize_t n = g.getNumObjs();
  for (hsize_t i = 0; i < n; ++i) {
    std::string name = g.getObjnameByIdx(i);
    std::string path = prefix + "/" + name;
    H5G_obj_t t = g.getObjTypeByIdx(i);
    if (t == H5G_GROUP) {
      out += "  " + path + "/\n";
      walk(g.openGroup(name), path, out);
    } else if (t == H5G_DATASET) {
      H5::DataSet ds = g.openDataSet(name);
      H5::DataSpace sp = ds.getSpace();
      std::vector<hsize_t> dims(sp.getSimpleExtentNdims());
      sp.getSimpleExtentDims(dims.data());
      out += "  " + path + "  " + dims_text(dims) + "  " + h5::type_name(ds.getDataType()) + "\n";
      attributes(ds, "      @", out);
    }
  }
}

std::string describe_npz(const std::string& path) {
  auto arrays = read_npz(path);
  std::string kind = "NumPy .npz archive";
  auto it = arrays.find("data");
  if (it != arrays.end() && it->second.shape.size() == 3)
    kind = "G-buffers (reference .npz, key 'data')";
  else if (arrays.count("crops"))
    kind = "crop features (reference .npz, key 'crops')";
  else if (arrays.count("w"))
    kind = "sampling weights (reference .npz, key 'w')";
  std::string out = cat(path, "\n  kind: ", kind, "\n  arrays:\n");
  for (auto& kv : arrays) {
    std::vector<hsize_t> d(kv.second.shape.begin(), kv.second.shape.end());
    out += cat("  /", kv.first, "  ", dims_text(d), "  ", kv.second.dtype, "\n");
  }
  return out;
}

}  // namespace

std::string describe_file(const std::string& path) {
  std::error_code ec;
  EPE_CHECK(std::filesystem::exists(path, ec), "'", path, "' does not exist");
  {
    std::ifstream in(path, std::ios::binary);
    char sig[4] = {0, 0, 0, 0};
    in.read(sig, 4);
    if (std::memcmp(sig, "PK\x03\x04", 4) == 0 || std::memcmp(sig, "PK\x05\x06", 4) == 0) return describe_npz(path);
  }
  std::lock_guard<std::mutex> lock(h5::h5_mutex());
  H5::H5File f = [&] {
    try {
      return h5::open_file(path);
    } catch (const UserError& e) {
      throw UserError(cat(e.what(), " (epe info reads HDF5 stores, G-buffer files and .npz archives)"));
    }
  }();
  try {
    h5::FormatTag tag = h5::read_format(f);
    std::string out = path + "\n";
    if (tag.name.empty())
      out += "  kind: HDF5 file without an epe_format attribute (not an epe store)\n";
    else if (tag.name == "gbuffers")
      out += cat("  kind: G-buffers (epe HDF5), format version ", tag.version, "\n");
    else
      out += cat("  kind: ", tag.name, " store, format version ", tag.version, "\n");
    out += "  attributes:\n";
    attributes(f, "    ", out);
    out += "  datasets:\n";
    walk(f, "", out);
    return out;
  } catch (const H5::Exception& e) {
    throw UserError(cat("'", path, "' is damaged: ", e.getDetailMsg()));
  }
}

}  // namespace epe
