#include "epe/io/npz.h"

#include <zip.h>

#include <cstring>
#include <filesystem>

#include "epe/core/atomic_file.h"
#include "epe/core/error.h"
#include "epe/core/half.h"

namespace epe {

std::size_t NpyArray::size() const {
  std::size_t n = 1;
  for (auto d : shape) n *= d;
  return n;
}

std::size_t NpyArray::item_size() const {
  if (dtype.size() < 3) return 0;
  return static_cast<std::size_t>(std::atoi(dtype.c_str() + 2));
}

namespace {

template <class Out>
std::vector<Out> convert(const NpyArray& a) {
  const std::size_t n = a.size();
  std::vector<Out> out(n);
  const std::uint8_t* p = a.data.data();
  const std::string& d = a.dtype;
  auto get = [&](auto tag, std::size_t i) {
    using T = decltype(tag);
    T v;
    std::memcpy(&v, p + i * sizeof(T), sizeof(T));
    return static_cast<Out>(v);
  };
  if (d.size() >= 2 && d[0] == '>') throw UserError("big-endian .npy arrays are not supported (dtype " + d + ")");
  std::string t = d.substr(1);
  for (std::size_t i = 0; i < n; ++i) {
    if (t == "f2") {
      std::uint16_t h;
      std::memcpy(&h, p + 2 * i, 2);
      out[i] = static_cast<Out>(half_to_float(h));
    } else if (t == "f4")
      out[i] = get(float{}, i);
    else if (t == "f8")
      out[i] = get(double{}, i);
    else if (t == "i1")
      out[i] = get(std::int8_t{}, i);
    else if (t == "u1" || t == "b1")
      out[i] = get(std::uint8_t{}, i);
    else if (t == "i2")
      out[i] = get(std::int16_t{}, i);
    else if (t == "u2")
      out[i] = get(std::uint16_t{}, i);
    else if (t == "i4")
      out[i] = get(std::int32_t{}, i);
    else if (t == "u4")
      out[i] = get(std::uint32_t{}, i);
    else if (t == "i8")
      out[i] = get(std::int64_t{}, i);
    else if (t == "u8")
      out[i] = get(std::uint64_t{}, i);
    else
      throw UserError("unsupported .npy dtype '" + d + "'");
  }
  return out;
}

std::string dict_value(const std::string& header, const std::string& key) {
  std::size_t k = header.find("'" + key + "'");
  if (k == std::string::npos) return "";
  std::size_t colon = header.find(':', k);
  if (colon == std::string::npos) return "";
  std::size_t a = header.find_first_not_of(' ', colon + 1);
  if (a == std::string::npos) return "";
  if (header[a] == '(') return header.substr(a, header.find(')', a) - a + 1);
  if (header[a] == '\'') return header.substr(a + 1, header.find('\'', a + 1) - a - 1);
  std::size_t b = header.find_first_of(",}", a);
  return header.substr(a, b - a);
}

}  // namespace

std::vector<float> NpyArray::to_float() const {
  return convert<float>(*this);
}
std::vector<double> NpyArray::to_double() const {
  return convert<double>(*this);
}

NpyArray NpyArray::from_float(const std::vector<float>& v, std::vector<std::size_t> shape, bool as_float16) {
  NpyArray a;
  a.shape = std::move(shape);
  EPE_ASSERT(a.size() == v.size(), "shape does not match data");
  if (as_float16) {
    a.dtype = "<f2";
    a.data.resize(v.size() * 2);
    for (std::size_t i = 0; i < v.size(); ++i) {
      std::uint16_t h = float_to_half(v[i]);
      std::memcpy(a.data.data() + 2 * i, &h, 2);
    }
  } else {
    a.dtype = "<f4";
    a.data.resize(v.size() * 4);
    std::memcpy(a.data.data(), v.data(), a.data.size());
  }
  return a;
}

NpyArray NpyArray::from_double(const std::vector<double>& v, std::vector<std::size_t> shape) {
  NpyArray a;
  a.shape = std::move(shape);
  EPE_ASSERT(a.size() == v.size(), "shape does not match data");
  a.dtype = "<f8";
  a.data.resize(v.size() * 8);
  std::memcpy(a.data.data(), v.data(), a.data.size());
  return a;
}

NpyArray parse_npy(const std::uint8_t* b, std::size_t n, const std::string& what) {
  EPE_CHECK(n >= 10 && std::memcmp(b, "\x93NUMPY", 6) == 0, what, " is not a .npy array (bad magic)");
  int major = b[6];
  std::size_t hlen, off;
  if (major == 1) {
    hlen = b[8] | (b[9] << 8);
    off = 10;
  } else {
    EPE_CHECK(n >= 12, what, " is truncated");
    hlen = b[8] | (b[9] << 8) | (b[10] << 16) | (std::size_t(b[11]) << 24);
    off = 12;
  }
  EPE_CHECK(off + hlen <= n, what, " is truncated (header)");
  std::string header(reinterpret_cast<const char*>(b + off), hlen);
  NpyArray a;
  a.dtype = dict_value(header, "descr");
  EPE_CHECK(a.dtype.size() >= 3, what, ": cannot read the dtype from the .npy header");
  std::string fortran = dict_value(header, "fortran_order");
  EPE_CHECK(fortran.find("False") != std::string::npos, what, ": Fortran-order arrays are not supported");
  std::string shape = dict_value(header, "shape");
  EPE_CHECK(!shape.empty(), what, ": cannot read the shape from the .npy header");
  for (std::size_t i = 1; i < shape.size();) {
    std::size_t j = shape.find_first_of(",)", i);
    std::string num = shape.substr(i, j - i);
    std::size_t a0 = num.find_first_not_of(' '), b0 = num.find_last_not_of(' ');
    if (a0 != std::string::npos) {
      num = num.substr(a0, b0 - a0 + 1);
      EPE_CHECK(num.find_first_not_of("0123456789") == std::string::npos && num.size() <= 15, what,
                ": bad shape in the .npy header: ", shape);
      a.shape.push_back(static_cast<std::size_t>(std::stoull(num)));
    }
    if (j == std::string::npos || shape[j] == ')') break;
    i = j + 1;
  }
  EPE_CHECK(a.item_size() > 0, what, ": unsupported dtype '", a.dtype, "'");
  const std::size_t avail = n - off - hlen;
  std::size_t bytes = a.item_size();
  for (auto d : a.shape) {
    EPE_CHECK(d == 0 || bytes <= avail / d, what, " is truncated: its header promises more data than the file holds");
    bytes *= d;
  }
  EPE_CHECK(bytes <= avail, what, " is truncated: header promises ", bytes, " bytes of data, found ", avail);
  a.data.assign(b + off + hlen, b + off + hlen + bytes);
  return a;
}

std::vector<std::uint8_t> serialize_npy(const NpyArray& a) {
  std::string shape = "(";
  for (std::size_t i = 0; i < a.shape.size(); ++i)
    shape += std::to_string(a.shape[i]) + (a.shape.size() == 1 ? "," : (i + 1 < a.shape.size() ? ", " : ""));
  shape += ")";
  std::string header = "{'descr': '" + a.dtype + "', 'fortran_order': False, 'shape': " + shape + ", }";
  std::size_t total = 10 + header.size() + 1;
  std::size_t pad = (64 - total % 64) % 64;
  header += std::string(pad, ' ') + "\n";
  // Sized once and filled in place. (The former reserve() + insert() sequence made GCC 12 warn
  // -Wstringop-overflow / -Warray-bounds about the 8-byte magic: a false positive of its
  // inlined vector growth path: every write was inside the reserved size.)
  const char magic[] = "\x93NUMPY\x01\x00";
  std::vector<std::uint8_t> out(10 + header.size() + a.data.size());
  std::memcpy(out.data(), magic, 8);
  out[8] = static_cast<std::uint8_t>(header.size() & 0xFF);
  out[9] = static_cast<std::uint8_t>(header.size() >> 8);
  std::memcpy(out.data() + 10, header.data(), header.size());
  if (!a.data.empty()) std::memcpy(out.data() + 10 + header.size(), a.data.data(), a.data.size());
  return out;
}

namespace {
struct ZipCloser {
  zip_t* z;
  ~ZipCloser() {
    if (z) zip_discard(z);
  }
};
}  // namespace

std::map<std::string, NpyArray> read_npz(const std::string& path) {
  std::error_code ec;
  EPE_CHECK(std::filesystem::exists(path, ec), "'", path, "' does not exist");
  int err = 0;
  zip_t* z = zip_open(path.c_str(), ZIP_RDONLY, &err);
  if (!z) {
    zip_error_t ze;
    zip_error_init_with_code(&ze, err);
    std::string msg = zip_error_strerror(&ze);
    zip_error_fini(&ze);
    throw UserError(cat("'", path, "' is not a readable .npz (zip) archive: ", msg));
  }
  ZipCloser closer{z};
  std::map<std::string, NpyArray> out;
  zip_int64_t n = zip_get_num_entries(z, 0);
  for (zip_int64_t i = 0; i < n; ++i) {
    zip_stat_t st;
    if (zip_stat_index(z, i, 0, &st) != 0) continue;
    std::string name = st.name;
    zip_file_t* f = zip_fopen_index(z, i, 0);
    EPE_CHECK(f, "'", path, "': cannot open member '", name, "'");
    EPE_CHECK(st.size < (std::uint64_t(1) << 40), "'", path, "': member '", name, "' is implausibly large");
    std::vector<std::uint8_t> buf(st.size);
    zip_int64_t got = st.size ? zip_fread(f, buf.data(), st.size) : 0;
    zip_fclose(f);
    EPE_CHECK(got == static_cast<zip_int64_t>(st.size), "'", path, "': member '", name, "' is truncated or damaged");
    std::string key =
        name.size() > 4 && name.substr(name.size() - 4) == ".npy" ? name.substr(0, name.size() - 4) : name;
    out[key] = parse_npy(buf.data(), buf.size(), cat("'", path, "' member '", name, "'"));
  }
  return out;
}

NpyArray read_npz_array(const std::string& path, const std::string& key) {
  auto all = read_npz(path);
  auto it = all.find(key);
  if (it == all.end()) {
    std::string keys;
    for (auto& kv : all) keys += (keys.empty() ? "" : ", ") + kv.first;
    throw UserError(cat("'", path, "' has no array '", key, "' (it has: ", keys.empty() ? "none" : keys, ")"));
  }
  return std::move(it->second);
}

void write_npz(const std::string& path, const std::map<std::string, NpyArray>& arrays, bool compress) {
  AtomicFile out(path);
  int err = 0;
  zip_t* z = zip_open(out.temp_path().c_str(), ZIP_CREATE | ZIP_TRUNCATE, &err);
  EPE_CHECK(z, "cannot create '", out.temp_path(), "'");
  std::vector<std::vector<std::uint8_t>> keep;  // libzip reads sources at close time
  keep.reserve(arrays.size());
  for (const auto& kv : arrays) {
    keep.push_back(serialize_npy(kv.second));
    zip_source_t* src = zip_source_buffer(z, keep.back().data(), keep.back().size(), 0);
    zip_int64_t idx = src ? zip_file_add(z, (kv.first + ".npy").c_str(), src, ZIP_FL_OVERWRITE) : -1;
    if (idx < 0) {
      if (src) zip_source_free(src);
      zip_discard(z);
      throw UserError(cat("cannot add '", kv.first, "' to '", path, "'"));
    }
    zip_set_file_compression(z, idx, compress ? ZIP_CM_DEFLATE : ZIP_CM_STORE, 0);
    zip_file_set_mtime(z, idx, 315532800, 0);  // fixed time: same arrays => same bytes
  }
  if (zip_close(z) != 0) {
    std::string msg = zip_strerror(z);
    zip_discard(z);
    throw UserError(cat("cannot write '", path, "': ", msg));
  }
  out.commit();
}

}  // namespace epe
