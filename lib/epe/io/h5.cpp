#include "epe/io/h5.h"

#include <ctime>
#include <filesystem>
#include <sstream>

#include "epe/core/error.h"
#include "epe/core/half.h"

namespace epe::h5 {

std::mutex& h5_mutex() {
  static std::mutex m;
  return m;
}

namespace {

struct Silence {
  Silence() { H5::Exception::dontPrint(); }
};
void silence() {
  static Silence s;
}

std::string h5_message(const H5::Exception& e) {
  std::string m = e.getDetailMsg();
  return m.empty() ? std::string("HDF5 error") : m;
}

template <class T>
const H5::PredType& mem_type();
template <>
const H5::PredType& mem_type<float>() {
  return H5::PredType::NATIVE_FLOAT;
}
template <>
const H5::PredType& mem_type<double>() {
  return H5::PredType::NATIVE_DOUBLE;
}
template <>
const H5::PredType& mem_type<std::int8_t>() {
  return H5::PredType::NATIVE_INT8;
}
template <>
const H5::PredType& mem_type<std::uint8_t>() {
  return H5::PredType::NATIVE_UINT8;
}
template <>
const H5::PredType& mem_type<std::int16_t>() {
  return H5::PredType::NATIVE_INT16;
}
template <>
const H5::PredType& mem_type<std::uint16_t>() {
  return H5::PredType::NATIVE_UINT16;
}
template <>
const H5::PredType& mem_type<std::int32_t>() {
  return H5::PredType::NATIVE_INT32;
}
template <>
const H5::PredType& mem_type<std::uint32_t>() {
  return H5::PredType::NATIVE_UINT32;
}
template <>
const H5::PredType& mem_type<std::int64_t>() {
  return H5::PredType::NATIVE_INT64;
}
template <>
const H5::PredType& mem_type<std::uint64_t>() {
  return H5::PredType::NATIVE_UINT64;
}

template <class T>
const H5::DataType& file_type();
template <>
const H5::DataType& file_type<float>() {
  return H5::PredType::IEEE_F32LE;
}
template <>
const H5::DataType& file_type<double>() {
  return H5::PredType::IEEE_F64LE;
}
template <>
const H5::DataType& file_type<std::int8_t>() {
  return H5::PredType::STD_I8LE;
}
template <>
const H5::DataType& file_type<std::uint8_t>() {
  return H5::PredType::STD_U8LE;
}
template <>
const H5::DataType& file_type<std::int16_t>() {
  return H5::PredType::STD_I16LE;
}
template <>
const H5::DataType& file_type<std::uint16_t>() {
  return H5::PredType::STD_U16LE;
}
template <>
const H5::DataType& file_type<std::int32_t>() {
  return H5::PredType::STD_I32LE;
}
template <>
const H5::DataType& file_type<std::uint32_t>() {
  return H5::PredType::STD_U32LE;
}
template <>
const H5::DataType& file_type<std::int64_t>() {
  return H5::PredType::STD_I64LE;
}
template <>
const H5::DataType& file_type<std::uint64_t>() {
  return H5::PredType::STD_U64LE;
}

// HDF5's own float32 -> half conversion into the h5py-style half type mis-rounds values just
// below a power of two (0.0312499 became 0.015625, measured here), so half data is converted
// by epe::float_to_half / half_to_float and moved as raw 16-bit words.
bool is_half(const H5::DataType& t) {
  return t.getClass() == H5T_FLOAT && t.getSize() == 2;
}

template <class T>
std::vector<std::uint16_t> to_half_bits(const T* data, std::size_t n) {
  std::vector<std::uint16_t> h(n);
  for (std::size_t i = 0; i < n; ++i) h[i] = float_to_half(static_cast<float>(data[i]));
  return h;
}

H5::StrType vlen_str() {
  return H5::StrType(H5::PredType::C_S1, H5T_VARIABLE);
}

H5::LinkCreatPropList intermediate_groups() {
  H5::LinkCreatPropList l;
  H5Pset_create_intermediate_group(l.getId(), 1);
  return l;
}

std::string iso_now() {
  std::time_t t = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf;
}

}  // namespace

std::string file_of(const H5::H5Object& obj) {
  try {
    return obj.getFileName();
  } catch (const H5::Exception&) {
    return "<hdf5>";
  }
}

H5::H5File open_file(const std::string& path, bool writable) {
  silence();
  std::error_code ec;
  EPE_CHECK(std::filesystem::exists(path, ec), "'", path, "' does not exist");
  EPE_CHECK(std::filesystem::is_regular_file(path, ec), "'", path, "' is not a regular file");
  bool is_h5 = false;
  try {
    is_h5 = H5::H5File::isHdf5(path);
  } catch (const H5::Exception&) {
    is_h5 = false;
  }
  EPE_CHECK(is_h5, "'", path, "' is not an HDF5 file");
  try {
    return H5::H5File(path, writable ? H5F_ACC_RDWR : H5F_ACC_RDONLY);
  } catch (const H5::Exception& e) {
    throw UserError(cat("'", path, "' is a damaged or truncated HDF5 file (", h5_message(e), ")"));
  }
}

H5::H5File create_file(const std::string& path) {
  silence();
  try {
    return H5::H5File(path, H5F_ACC_TRUNC);
  } catch (const H5::Exception& e) {
    throw UserError(cat("cannot create HDF5 file '", path, "': ", h5_message(e)));
  }
}

FormatTag read_format(const H5::H5File& f) {
  FormatTag t;
  if (has_attr(f, "epe_format")) t.name = attr_string(f, "epe_format");
  if (has_attr(f, "epe_format_version")) t.version = static_cast<int>(attr_int(f, "epe_format_version"));
  return t;
}

void write_store_header(H5::H5File& f, const std::string& format, int version, const std::string& command,
                        const std::string& options_ini) {
  set_attr(f, "epe_format", format);
  set_attr(f, "epe_format_version", version);
  set_attr(f, "created", iso_now());
  set_attr(f, "command", command);
  set_attr(f, "options", options_ini);
}

H5::H5File open_store(const std::string& path, const std::string& format, int max_version, bool writable) {
  H5::H5File f = open_file(path, writable);
  FormatTag t;
  try {
    t = read_format(f);
  } catch (const UserError& e) {
    throw UserError(cat("'", path, "' has an unreadable epe_format attribute: ", e.what()));
  }
  EPE_CHECK(!t.name.empty(), "'", path,
            "' is an HDF5 file but not an epe store (no epe_format attribute); expected a '", format, "' store");
  EPE_CHECK(t.name == format, "'", path, "' is a '", t.name, "' store, expected a '", format, "' store");
  EPE_CHECK(t.version >= 1 && t.version <= max_version, "'", path, "' is a '", format, "' store of format version ",
            t.version, "; this epe reads versions 1..", max_version, " (upgrade epe or re-create the store)");
  return f;
}

// ---------------------------------------------------------------- attributes

bool has_attr(const H5::H5Object& obj, const std::string& name) {
  try {
    return obj.attrExists(name);
  } catch (const H5::Exception&) {
    return false;
  }
}

namespace {
void replace_attr(H5::H5Object& obj, const std::string& name) {
  if (obj.attrExists(name)) obj.removeAttr(name);
}
H5::Attribute open_attr(const H5::H5Object& obj, const std::string& name) {
  try {
    return obj.openAttribute(name);
  } catch (const H5::Exception&) {
    throw UserError(cat("'", file_of(obj), "': attribute '", name, "' is missing"));
  }
}
}  // namespace

void set_attr(H5::H5Object& obj, const std::string& name, const std::string& value) {
  try {
    replace_attr(obj, name);
    H5::StrType t = vlen_str();
    t.setCset(H5T_CSET_UTF8);
    H5::Attribute a = obj.createAttribute(name, t, H5::DataSpace(H5S_SCALAR));
    const char* p = value.c_str();
    a.write(t, &p);
  } catch (const H5::Exception& e) {
    throw UserError(cat("'", file_of(obj), "': cannot write attribute '", name, "': ", h5_message(e)));
  }
}

void set_attr(H5::H5Object& obj, const std::string& name, const char* value) {
  set_attr(obj, name, std::string(value));
}

void set_attr(H5::H5Object& obj, const std::string& name, std::int64_t value) {
  try {
    replace_attr(obj, name);
    H5::Attribute a = obj.createAttribute(name, H5::PredType::STD_I64LE, H5::DataSpace(H5S_SCALAR));
    a.write(H5::PredType::NATIVE_INT64, &value);
  } catch (const H5::Exception& e) {
    throw UserError(cat("'", file_of(obj), "': cannot write attribute '", name, "': ", h5_message(e)));
  }
}

void set_attr(H5::H5Object& obj, const std::string& name, int value) {
  set_attr(obj, name, static_cast<std::int64_t>(value));
}

void set_attr(H5::H5Object& obj, const std::string& name, double value) {
  try {
    replace_attr(obj, name);
    H5::Attribute a = obj.createAttribute(name, H5::PredType::IEEE_F64LE, H5::DataSpace(H5S_SCALAR));
    a.write(H5::PredType::NATIVE_DOUBLE, &value);
  } catch (const H5::Exception& e) {
    throw UserError(cat("'", file_of(obj), "': cannot write attribute '", name, "': ", h5_message(e)));
  }
}

void set_attr(H5::H5Object& obj, const std::string& name, const std::vector<double>& value) {
  try {
    replace_attr(obj, name);
    hsize_t n = value.size();
    H5::Attribute a = obj.createAttribute(name, H5::PredType::IEEE_F64LE, H5::DataSpace(1, &n));
    a.write(H5::PredType::NATIVE_DOUBLE, value.data());
  } catch (const H5::Exception& e) {
    throw UserError(cat("'", file_of(obj), "': cannot write attribute '", name, "': ", h5_message(e)));
  }
}

void set_attr(H5::H5Object& obj, const std::string& name, const std::vector<std::string>& value) {
  try {
    replace_attr(obj, name);
    std::vector<const char*> ptrs;
    for (auto& s : value) ptrs.push_back(s.c_str());
    hsize_t n = value.size();
    H5::StrType t = vlen_str();
    t.setCset(H5T_CSET_UTF8);
    H5::Attribute a = obj.createAttribute(name, t, H5::DataSpace(1, &n));
    if (n) a.write(t, ptrs.data());
  } catch (const H5::Exception& e) {
    throw UserError(cat("'", file_of(obj), "': cannot write attribute '", name, "': ", h5_message(e)));
  }
}

namespace {
std::vector<std::string> read_string_values(const H5::Attribute& a, const std::string& where) {
  H5::DataType t = a.getDataType();
  if (t.getClass() != H5T_STRING) throw UserError(cat(where, " is not a string"));
  H5::StrType st = a.getStrType();
  hssize_t n = a.getSpace().getSimpleExtentNpoints();
  std::vector<std::string> out;
  if (st.isVariableStr()) {
    std::vector<char*> ptrs(n, nullptr);
    a.read(st, ptrs.data());
    for (auto* p : ptrs) out.emplace_back(p ? p : "");
    H5Dvlen_reclaim(st.getId(), a.getSpace().getId(), H5P_DEFAULT, ptrs.data());
  } else {
    std::size_t len = st.getSize();
    std::vector<char> buf(len * n);
    a.read(st, buf.data());
    for (hssize_t i = 0; i < n; ++i) {
      std::string s(buf.data() + i * len, len);
      s.erase(s.find_last_not_of('\0') + 1);
      out.push_back(s);
    }
  }
  return out;
}
}  // namespace

std::string attr_string(const H5::H5Object& obj, const std::string& name) {
  H5::Attribute a = open_attr(obj, name);
  try {
    auto v = read_string_values(a, cat("'", file_of(obj), "': attribute '", name, "'"));
    EPE_CHECK(v.size() == 1, "'", file_of(obj), "': attribute '", name, "' is not a single string");
    return v[0];
  } catch (const H5::Exception& e) {
    throw UserError(cat("'", file_of(obj), "': cannot read attribute '", name, "': ", h5_message(e)));
  }
}

std::vector<std::string> attr_strings(const H5::H5Object& obj, const std::string& name) {
  H5::Attribute a = open_attr(obj, name);
  try {
    return read_string_values(a, cat("'", file_of(obj), "': attribute '", name, "'"));
  } catch (const H5::Exception& e) {
    throw UserError(cat("'", file_of(obj), "': cannot read attribute '", name, "': ", h5_message(e)));
  }
}

std::vector<double> attr_doubles(const H5::H5Object& obj, const std::string& name) {
  H5::Attribute a = open_attr(obj, name);
  try {
    H5T_class_t c = a.getDataType().getClass();
    EPE_CHECK(c == H5T_FLOAT || c == H5T_INTEGER, "'", file_of(obj), "': attribute '", name, "' is not numeric");
    hssize_t n = a.getSpace().getSimpleExtentNpoints();
    std::vector<double> v(n);
    a.read(H5::PredType::NATIVE_DOUBLE, v.data());
    return v;
  } catch (const H5::Exception& e) {
    throw UserError(cat("'", file_of(obj), "': cannot read attribute '", name, "': ", h5_message(e)));
  }
}

double attr_double(const H5::H5Object& obj, const std::string& name) {
  auto v = attr_doubles(obj, name);
  EPE_CHECK(v.size() == 1, "'", file_of(obj), "': attribute '", name, "' is not a single number");
  return v[0];
}

std::int64_t attr_int(const H5::H5Object& obj, const std::string& name) {
  H5::Attribute a = open_attr(obj, name);
  try {
    EPE_CHECK(a.getDataType().getClass() == H5T_INTEGER, "'", file_of(obj), "': attribute '", name,
              "' is not an integer");
    EPE_CHECK(a.getSpace().getSimpleExtentNpoints() == 1, "'", file_of(obj), "': attribute '", name,
              "' is not a single integer");
    std::int64_t v = 0;
    a.read(H5::PredType::NATIVE_INT64, &v);
    return v;
  } catch (const H5::Exception& e) {
    throw UserError(cat("'", file_of(obj), "': cannot read attribute '", name, "': ", h5_message(e)));
  }
}

std::string attr_as_text(const H5::Attribute& a) {
  H5::DataType t = a.getDataType();
  hssize_t n = a.getSpace().getSimpleExtentNpoints();
  std::ostringstream os;
  if (t.getClass() == H5T_STRING) {
    auto v = read_string_values(a, "attribute");
    if (v.size() == 1 && a.getSpace().getSimpleExtentNdims() == 0) return v[0];
    os << "[";
    for (std::size_t i = 0; i < v.size(); ++i) os << (i ? ", " : "") << v[i];
    os << "]";
  } else if (t.getClass() == H5T_INTEGER || t.getClass() == H5T_FLOAT) {
    std::vector<double> v(n);
    a.read(H5::PredType::NATIVE_DOUBLE, v.data());
    if (n != 1) os << "[";
    for (hssize_t i = 0; i < n; ++i) os << (i ? ", " : "") << v[i];
    if (n != 1) os << "]";
  } else {
    os << "<" << type_name(t) << ">";
  }
  return os.str();
}

// ---------------------------------------------------------------- datasets

H5::FloatType float16_type() {
  H5::FloatType t(H5::PredType::IEEE_F32LE);
  t.setFields(15, 10, 5, 0, 10);
  t.setSize(2);
  t.setEbias(15);
  t.setPrecision(16);
  return t;
}

bool exists(const H5::Group& where, const std::string& path) {
  // Walk the path so that a missing parent is not an error.
  std::string cur;
  std::size_t start = path[0] == '/' ? 1 : 0;
  if (path[0] == '/') cur = "/";
  while (start <= path.size()) {
    std::size_t slash = path.find('/', start);
    std::string part = path.substr(start, slash == std::string::npos ? std::string::npos : slash - start);
    if (part.empty()) break;
    cur += (cur.empty() || cur == "/" ? "" : "/") + part;
    if (H5Lexists(where.getId(), cur.c_str(), H5P_DEFAULT) <= 0) return false;
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
  return true;
}

template <class T>
void write(H5::Group& where, const std::string& path, const T* data, const std::vector<hsize_t>& dims,
           const WriteOptions& opt) {
  try {
    H5::DataSpace space(static_cast<int>(dims.size()), dims.data());
    H5::DSetCreatPropList dcpl;
    H5Pset_obj_track_times(dcpl.getId(), opt.track_times ? 1 : 0);
    hsize_t total = 1;
    for (auto d : dims) total *= d;
    std::vector<hsize_t> chunk = opt.chunk;
    if (chunk.empty() && opt.compress > 0 && total > 0 && !dims.empty()) {
      // About 1 MiB chunks split along the first axis.
      chunk = dims;
      hsize_t row = total / std::max<hsize_t>(1, dims[0]);
      chunk[0] = std::max<hsize_t>(1, std::min<hsize_t>(dims[0], (1u << 18) / std::max<hsize_t>(1, row)));
    }
    if (!chunk.empty() && total > 0) {
      dcpl.setChunk(static_cast<int>(chunk.size()), chunk.data());
      if (opt.compress > 0) {
        dcpl.setShuffle();
        dcpl.setDeflate(opt.compress);
      }
    }
    if constexpr (std::is_floating_point_v<T>) {
      if (opt.float16) {
        H5::DataSet ds =
            where.createDataSet(path, float16_type(), space, dcpl, H5::DSetAccPropList::DEFAULT, intermediate_groups());
        if (total > 0) ds.write(to_half_bits(data, total).data(), float16_type());
        return;
      }
    }
    H5::DataSet ds =
        where.createDataSet(path, file_type<T>(), space, dcpl, H5::DSetAccPropList::DEFAULT, intermediate_groups());
    if (total > 0) ds.write(data, mem_type<T>());
  } catch (const H5::Exception& e) {
    throw UserError(cat("'", file_of(where), "': cannot write dataset '", path, "': ", h5_message(e)));
  }
}

void write_strings(H5::Group& where, const std::string& path, const std::vector<std::string>& values) {
  try {
    std::vector<const char*> ptrs;
    for (auto& s : values) ptrs.push_back(s.c_str());
    hsize_t n = values.size();
    H5::StrType t = vlen_str();
    t.setCset(H5T_CSET_UTF8);
    H5::DSetCreatPropList dcpl;
    H5Pset_obj_track_times(dcpl.getId(), 0);
    H5::DataSet ds =
        where.createDataSet(path, t, H5::DataSpace(1, &n), dcpl, H5::DSetAccPropList::DEFAULT, intermediate_groups());
    if (n) ds.write(ptrs.data(), t);
  } catch (const H5::Exception& e) {
    throw UserError(cat("'", file_of(where), "': cannot write dataset '", path, "': ", h5_message(e)));
  }
}

namespace {
template <class T>
void read_converted(const H5::DataSet& ds, T* out, std::size_t n, const H5::DataSpace& mem, const H5::DataSpace& file) {
  if constexpr (std::is_floating_point_v<T>) {
    if (is_half(ds.getDataType())) {
      std::vector<std::uint16_t> h(n);
      ds.read(h.data(), float16_type(), mem, file);
      for (std::size_t i = 0; i < n; ++i) out[i] = static_cast<T>(half_to_float(h[i]));
      return;
    }
  }
  ds.read(out, mem_type<T>(), mem, file);
}
}  // namespace

H5::DataSet open_dataset(const H5::Group& where, const std::string& path) {
  EPE_CHECK(exists(where, path), "'", file_of(where), "': dataset '", path, "' is missing");
  try {
    return where.openDataSet(path);
  } catch (const H5::Exception& e) {
    throw UserError(cat("'", file_of(where), "': '", path, "' is not a readable dataset: ", h5_message(e)));
  }
}

namespace {
std::vector<hsize_t> dims_of(const H5::DataSet& ds) {
  H5::DataSpace sp = ds.getSpace();
  std::vector<hsize_t> dims(sp.getSimpleExtentNdims());
  sp.getSimpleExtentDims(dims.data());
  return dims;
}

H5::DataSet create_rows_typed(H5::Group& where, const std::string& path, const H5::DataType& type,
                              const std::vector<hsize_t>& row_dims, hsize_t chunk_rows, int compress) {
  try {
    std::vector<hsize_t> dims{0}, maxdims{H5S_UNLIMITED}, chunk{std::max<hsize_t>(1, chunk_rows)};
    for (hsize_t d : row_dims) {
      dims.push_back(d);
      maxdims.push_back(d);
      chunk.push_back(std::max<hsize_t>(1, d));
    }
    H5::DataSpace space(static_cast<int>(dims.size()), dims.data(), maxdims.data());
    H5::DSetCreatPropList dcpl;
    H5Pset_obj_track_times(dcpl.getId(), 0);
    dcpl.setChunk(static_cast<int>(chunk.size()), chunk.data());
    if (compress > 0) {
      dcpl.setShuffle();
      dcpl.setDeflate(compress);
    }
    return where.createDataSet(path, type, space, dcpl, H5::DSetAccPropList::DEFAULT, intermediate_groups());
  } catch (const H5::Exception& e) {
    throw UserError(cat("'", file_of(where), "': cannot create dataset '", path, "': ", h5_message(e)));
  }
}

// Extends by `rows` and returns the file space selected on the new rows plus the memory space.
std::pair<H5::DataSpace, H5::DataSpace> extend(H5::DataSet& ds, hsize_t rows) {
  std::vector<hsize_t> dims = dims_of(ds);
  std::vector<hsize_t> start(dims.size(), 0), count = dims;
  start[0] = dims[0];
  count[0] = rows;
  dims[0] += rows;
  ds.extend(dims.data());
  H5::DataSpace file = ds.getSpace();
  file.selectHyperslab(H5S_SELECT_SET, count.data(), start.data());
  return {file, H5::DataSpace(static_cast<int>(count.size()), count.data())};
}
}  // namespace

template <class T>
H5::DataSet create_rows(H5::Group& where, const std::string& path, const std::vector<hsize_t>& row_dims,
                        hsize_t chunk_rows, const WriteOptions& opt) {
  if constexpr (std::is_floating_point_v<T>) {
    if (opt.float16) return create_rows_typed(where, path, float16_type(), row_dims, chunk_rows, opt.compress);
  }
  return create_rows_typed(where, path, file_type<T>(), row_dims, chunk_rows, opt.compress);
}

H5::DataSet create_string_rows(H5::Group& where, const std::string& path, hsize_t chunk_rows) {
  H5::StrType t = vlen_str();
  t.setCset(H5T_CSET_UTF8);
  return create_rows_typed(where, path, t, {}, chunk_rows, 0);
}

template <class T>
void append_rows(H5::DataSet& ds, const T* data, hsize_t rows) {
  if (rows == 0) return;
  try {
    auto [file, mem] = extend(ds, rows);
    if constexpr (std::is_floating_point_v<T>) {
      if (is_half(ds.getDataType())) {
        ds.write(to_half_bits(data, mem.getSimpleExtentNpoints()).data(), float16_type(), mem, file);
        return;
      }
    }
    ds.write(data, mem_type<T>(), mem, file);
  } catch (const H5::Exception& e) {
    throw UserError(cat("'", file_of(ds), "': cannot append to dataset '", ds.getObjName(), "': ", h5_message(e)));
  }
}

void append_strings(H5::DataSet& ds, const std::vector<std::string>& values) {
  if (values.empty()) return;
  try {
    std::vector<const char*> ptrs;
    for (auto& v : values) ptrs.push_back(v.c_str());
    auto [file, mem] = extend(ds, values.size());
    ds.write(ptrs.data(), ds.getStrType(), mem, file);
  } catch (const H5::Exception& e) {
    throw UserError(cat("'", file_of(ds), "': cannot append to dataset '", ds.getObjName(), "': ", h5_message(e)));
  }
}

hsize_t rows(const H5::DataSet& ds) {
  try {
    std::vector<hsize_t> d = dims_of(ds);
    return d.empty() ? 0 : d[0];
  } catch (const H5::Exception& e) {
    throw UserError(cat("'", file_of(ds), "': cannot read the shape of '", ds.getObjName(), "': ", h5_message(e)));
  }
}

void set_rows(H5::DataSet& ds, hsize_t n) {
  try {
    std::vector<hsize_t> d = dims_of(ds);
    d[0] = n;
    ds.extend(d.data());
  } catch (const H5::Exception& e) {
    throw UserError(cat("'", file_of(ds), "': cannot resize dataset '", ds.getObjName(), "': ", h5_message(e)));
  }
}

template <class T>
std::vector<T> read_rows(const H5::DataSet& ds, hsize_t begin, hsize_t count) {
  try {
    std::vector<hsize_t> dims = dims_of(ds);
    EPE_CHECK(!dims.empty() && begin + count <= dims[0], "'", file_of(ds), "': rows [", begin, ", ", begin + count,
              ") of '", ds.getObjName(), "' are out of range");
    hsize_t per_row = 1;
    for (size_t i = 1; i < dims.size(); ++i) per_row *= dims[i];
    std::vector<T> out(count * per_row);
    if (count == 0 || per_row == 0) return out;
    std::vector<hsize_t> start(dims.size(), 0), cnt = dims;
    start[0] = begin;
    cnt[0] = count;
    H5::DataSpace file = ds.getSpace();
    file.selectHyperslab(H5S_SELECT_SET, cnt.data(), start.data());
    H5::DataSpace mem(static_cast<int>(cnt.size()), cnt.data());
    read_converted(ds, out.data(), out.size(), mem, file);
    return out;
  } catch (const H5::Exception& e) {
    throw UserError(cat("'", file_of(ds), "': cannot read dataset '", ds.getObjName(),
                        "' (damaged or truncated file?): ", h5_message(e)));
  }
}

std::vector<hsize_t> shape(const H5::Group& where, const std::string& path) {
  H5::DataSet ds = open_dataset(where, path);
  try {
    H5::DataSpace sp = ds.getSpace();
    std::vector<hsize_t> dims(sp.getSimpleExtentNdims());
    sp.getSimpleExtentDims(dims.data());
    return dims;
  } catch (const H5::Exception& e) {
    throw UserError(cat("'", file_of(where), "': cannot read the shape of '", path, "': ", h5_message(e)));
  }
}

template <class T>
std::vector<T> read(const H5::Group& where, const std::string& path, std::vector<hsize_t>* dims_out) {
  H5::DataSet ds = open_dataset(where, path);
  try {
    H5T_class_t c = ds.getDataType().getClass();
    EPE_CHECK(c == H5T_INTEGER || c == H5T_FLOAT, "'", file_of(where), "': dataset '", path, "' is not numeric");
    H5::DataSpace sp = ds.getSpace();
    std::vector<hsize_t> dims(sp.getSimpleExtentNdims());
    sp.getSimpleExtentDims(dims.data());
    hsize_t total = 1;
    for (auto d : dims) total *= d;
    std::vector<T> out(total);
    if (total) read_converted(ds, out.data(), total, H5::DataSpace::ALL, H5::DataSpace::ALL);
    if (dims_out) *dims_out = dims;
    return out;
  } catch (const H5::Exception& e) {
    throw UserError(
        cat("'", file_of(where), "': cannot read dataset '", path, "' (damaged or truncated file?): ", h5_message(e)));
  }
}

std::vector<std::string> read_strings(const H5::Group& where, const std::string& path) {
  H5::DataSet ds = open_dataset(where, path);
  try {
    H5::DataType t = ds.getDataType();
    EPE_CHECK(t.getClass() == H5T_STRING, "'", file_of(where), "': dataset '", path, "' is not a string dataset");
    H5::StrType st = ds.getStrType();
    H5::DataSpace sp = ds.getSpace();
    hssize_t n = sp.getSimpleExtentNpoints();
    std::vector<std::string> out;
    out.reserve(n);
    if (st.isVariableStr()) {
      std::vector<char*> ptrs(n, nullptr);
      if (n) ds.read(ptrs.data(), st);
      for (auto* p : ptrs) out.emplace_back(p ? p : "");
      if (n) H5Dvlen_reclaim(st.getId(), sp.getId(), H5P_DEFAULT, ptrs.data());
    } else {
      std::size_t len = st.getSize();
      std::vector<char> buf(len * n);
      if (n) ds.read(buf.data(), st);
      for (hssize_t i = 0; i < n; ++i) {
        std::string s(buf.data() + i * len, len);
        s.erase(s.find_last_not_of('\0') + 1);
        out.push_back(s);
      }
    }
    return out;
  } catch (const H5::Exception& e) {
    throw UserError(cat("'", file_of(where), "': cannot read dataset '", path, "': ", h5_message(e)));
  }
}

std::string type_name(const H5::DataType& t) {
  std::size_t size = t.getSize();
  switch (t.getClass()) {
    case H5T_FLOAT:
      return cat("float", size * 8);
    case H5T_INTEGER: {
      H5::IntType it(t.getId());
      bool is_signed = H5Tget_sign(t.getId()) != H5T_SGN_NONE;
      return cat(is_signed ? "int" : "uint", size * 8);
    }
    case H5T_STRING:
      return "string";
    case H5T_COMPOUND:
      return "compound";
    case H5T_ENUM:
      return "enum";
    case H5T_ARRAY:
      return "array";
    default:
      return "other";
  }
}

#define EPE_H5_INSTANTIATE(T)                                                                                         \
  template void write<T>(H5::Group&, const std::string&, const T*, const std::vector<hsize_t>&, const WriteOptions&); \
  template std::vector<T> read<T>(const H5::Group&, const std::string&, std::vector<hsize_t>*);                       \
  template H5::DataSet create_rows<T>(H5::Group&, const std::string&, const std::vector<hsize_t>&, hsize_t,           \
                                      const WriteOptions&);                                                           \
  template void append_rows<T>(H5::DataSet&, const T*, hsize_t);                                                      \
  template std::vector<T> read_rows<T>(const H5::DataSet&, hsize_t, hsize_t);
EPE_H5_INSTANTIATE(float)
EPE_H5_INSTANTIATE(double)
EPE_H5_INSTANTIATE(std::int8_t)
EPE_H5_INSTANTIATE(std::uint8_t)
EPE_H5_INSTANTIATE(std::int16_t)
EPE_H5_INSTANTIATE(std::uint16_t)
EPE_H5_INSTANTIATE(std::int32_t)
EPE_H5_INSTANTIATE(std::uint32_t)
EPE_H5_INSTANTIATE(std::int64_t)
EPE_H5_INSTANTIATE(std::uint64_t)
#undef EPE_H5_INSTANTIATE

}  // namespace epe::h5
