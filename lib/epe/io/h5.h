#pragma once
// HDF5 helpers shared by every store (docs/DESIGN.md §4). All functions translate HDF5's own
// exceptions into UserError naming the file and the object, and never print HDF5's error
// stack. The HDF5 library is not thread-safe: call these from one thread at a time
// (lock h5_mutex() where worker threads may touch HDF5).
//
// Every store's root carries `epe_format` (string, e.g. "crops"), `epe_format_version`
// (int), `created` (ISO-8601 UTC), `command` (the full command line) and `options`
// (the resolved options, INI text). open_store() checks the first two.

#include <H5Cpp.h>

#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

namespace epe::h5 {

std::mutex& h5_mutex();

// Opens an existing HDF5 file. UserError when it does not exist, is not HDF5, or is
// truncated/corrupt (the message names the file and says which).
H5::H5File open_file(const std::string& path, bool writable = false);
// Creates (truncating) an HDF5 file, for writing under an AtomicFile's temporary name.
H5::H5File create_file(const std::string& path);

// Writes the root attributes every store carries.
void write_store_header(H5::H5File& f, const std::string& format, int version, const std::string& command,
                        const std::string& options_ini);
// Opens `path` and checks that it is a store of `format` with version <= max_version.
// UserError otherwise, e.g. "x.h5 is a 'match' store, expected a 'crops' store".
H5::H5File open_store(const std::string& path, const std::string& format, int max_version, bool writable = false);
// Format name and version of a file ("" and 0 when the file has none).
struct FormatTag {
  std::string name;
  int version = 0;
};
FormatTag read_format(const H5::H5File& f);

// ---- attributes (on a file, group or dataset) ----
bool has_attr(const H5::H5Object& obj, const std::string& name);
void set_attr(H5::H5Object& obj, const std::string& name, const std::string& value);
void set_attr(H5::H5Object& obj, const std::string& name, const char* value);
void set_attr(H5::H5Object& obj, const std::string& name, std::int64_t value);
void set_attr(H5::H5Object& obj, const std::string& name, int value);
void set_attr(H5::H5Object& obj, const std::string& name, double value);
void set_attr(H5::H5Object& obj, const std::string& name, const std::vector<double>& value);
void set_attr(H5::H5Object& obj, const std::string& name, const std::vector<std::string>& value);
std::string attr_string(const H5::H5Object& obj, const std::string& name);
std::int64_t attr_int(const H5::H5Object& obj, const std::string& name);
double attr_double(const H5::H5Object& obj, const std::string& name);
std::vector<double> attr_doubles(const H5::H5Object& obj, const std::string& name);
std::vector<std::string> attr_strings(const H5::H5Object& obj, const std::string& name);
// Any attribute rendered as text (strings as-is, numbers and arrays printed), for `epe info`.
std::string attr_as_text(const H5::Attribute& a);

// ---- datasets ----
struct WriteOptions {
  std::vector<hsize_t> chunk;  // empty: contiguous (or automatic when compress > 0)
  int compress = 0;            // gzip level 0..9 (with the shuffle filter)
  bool float16 = false;        // store float data as IEEE half (h5py reads it as float16)
  bool track_times = false;    // off: same content => byte-identical files
};

// Creates a dataset of the given shape and writes `data` (row-major, size = product of dims).
// Parent groups in `path` ("/a/b/c") are created as needed.
template <class T>
void write(H5::Group& where, const std::string& path, const T* data, const std::vector<hsize_t>& dims,
           const WriteOptions& opt = {});
template <class T>
void write(H5::Group& where, const std::string& path, const std::vector<T>& data, const std::vector<hsize_t>& dims,
           const WriteOptions& opt = {}) {
  write(where, path, data.data(), dims, opt);
}
void write_strings(H5::Group& where, const std::string& path, const std::vector<std::string>& values);

// Reads a whole dataset converted to T (HDF5 converts numeric types, including half).
// `dims` receives the shape. UserError names the file and dataset when it is missing.
template <class T>
std::vector<T> read(const H5::Group& where, const std::string& path, std::vector<hsize_t>* dims = nullptr);
std::vector<std::string> read_strings(const H5::Group& where, const std::string& path);
std::vector<hsize_t> shape(const H5::Group& where, const std::string& path);
bool exists(const H5::Group& where, const std::string& path);

// ---- appendable datasets: the first dimension grows (chunked, unlimited) ----
// Creates an empty dataset of shape [0, row_dims...] (row_dims empty: 1-D) of file type T (or
// half precision with opt.float16), chunked by `chunk_rows` rows. opt.chunk is ignored.
template <class T>
H5::DataSet create_rows(H5::Group& where, const std::string& path, const std::vector<hsize_t>& row_dims,
                        hsize_t chunk_rows, const WriteOptions& opt = {});
H5::DataSet create_string_rows(H5::Group& where, const std::string& path, hsize_t chunk_rows);
// Appends `rows` rows (row-major, rows x product(row_dims) values).
template <class T>
void append_rows(H5::DataSet& ds, const T* data, hsize_t rows);
void append_strings(H5::DataSet& ds, const std::vector<std::string>& values);
// Number of rows (first dimension) and truncation/extension to `rows`.
hsize_t rows(const H5::DataSet& ds);
void set_rows(H5::DataSet& ds, hsize_t rows);
// Reads rows [begin, begin + count) converted to T.
template <class T>
std::vector<T> read_rows(const H5::DataSet& ds, hsize_t begin, hsize_t count);
// Opens a dataset; UserError naming the file and dataset when it is missing.
H5::DataSet open_dataset(const H5::Group& where, const std::string& path);

// The half-precision type as h5py defines it.
H5::FloatType float16_type();

// "float16", "float32", "int32", "string", ... for `epe info`.
std::string type_name(const H5::DataType& t);

// The file an object belongs to, for messages.
std::string file_of(const H5::H5Object& obj);

}  // namespace epe::h5
