#include "epe/nn/torch_pickle.h"

#include <caffe2/serialize/inline_container.h>
#include <torch/torch.h>

#include <cstring>
#include <fstream>
#include <iterator>
#include <memory>
#include <variant>

#include "epe/core/error.h"

namespace epe::nn {

namespace {

struct Value;
using ValuePtr = std::shared_ptr<Value>;

struct Global {
  std::string module, name;
};
struct Dict {
  std::vector<std::pair<ValuePtr, ValuePtr>> items;
};
struct Tuple {
  std::vector<ValuePtr> items;
};
struct List {
  std::vector<ValuePtr> items;
};
struct Storage {
  c10::ScalarType dtype;
  std::string key;
  int64_t numel = 0;        // elements of the (root) storage
  int64_t view_offset = 0;  // legacy storage views: first element of the view in the root
};
// A tensor as the pickle describes it; its storage's bytes are read afterwards (they follow
// the pickles in the legacy format).
struct TensorRef {
  Storage s;
  int64_t offset = 0;
  std::vector<int64_t> size, stride;
};
struct Opaque {
  std::string what;
};
struct Mark {};
struct None {};

struct Value {
  std::variant<None, bool, int64_t, double, std::string, Global, Dict, Tuple, List, Storage, TensorRef, Opaque, Mark> v;
  template <class T>
  T* get() {
    return std::get_if<T>(&v);
  }
};

template <class T>
ValuePtr make(T x) {
  auto p = std::make_shared<Value>();
  p->v = std::move(x);
  return p;
}

c10::ScalarType storage_dtype(const std::string& name) {
  static const std::map<std::string, c10::ScalarType> m = {
      {"FloatStorage", c10::kFloat},       {"DoubleStorage", c10::kDouble}, {"HalfStorage", c10::kHalf},
      {"BFloat16Storage", c10::kBFloat16}, {"LongStorage", c10::kLong},     {"IntStorage", c10::kInt},
      {"ShortStorage", c10::kShort},       {"CharStorage", c10::kChar},     {"ByteStorage", c10::kByte},
      {"BoolStorage", c10::kBool}};
  auto it = m.find(name);
  if (it == m.end()) throw UserError(cat("unsupported tensor storage type torch.", name));
  return it->second;
}

// Runs one pickle of `data` from byte `pos` to its STOP opcode.
class PickleReader {
 public:
  explicit PickleReader(const std::string& data, size_t pos = 0) : d_(data), pos_(pos) {}
  size_t pos() const { return pos_; }  // the byte after STOP, once run() returned
  const std::map<std::string, Storage>& storages() const { return storages_; }

  ValuePtr run() {
    for (;;) {
      const unsigned char op = byte();
      switch (op) {
        case 0x80:
          byte();
          break;  // PROTO
        case 0x95:
          bytes(8);
          break;  // FRAME
        case '.':
          return pop();  // STOP
        case '(':
          stack_.push_back(make(Mark{}));
          break;  // MARK
        case 'N':
          stack_.push_back(make(None{}));
          break;
        case 0x88:
          stack_.push_back(make(true));
          break;  // NEWTRUE
        case 0x89:
          stack_.push_back(make(false));
          break;  // NEWFALSE
        case 'K':
          stack_.push_back(make<int64_t>(byte()));
          break;  // BININT1
        case 'M':
          stack_.push_back(make<int64_t>(le(2)));
          break;  // BININT2
        case 'J':
          stack_.push_back(make<int64_t>(static_cast<int32_t>(le(4))));
          break;      // BININT
        case 0x8a: {  // LONG1
          const int n = byte();
          if (n > 8) {  // only the legacy format's magic number is this large: keep its bytes
            stack_.push_back(make(Opaque{"long:" + bytes(n)}));
            break;
          }
          uint64_t v = 0;
          for (int i = 0; i < n; ++i) v |= static_cast<uint64_t>(byte()) << (8 * i);
          if (n > 0 && n < 8 && (v >> (8 * n - 1)) & 1) v |= ~0ULL << (8 * n);  // sign-extend
          stack_.push_back(make<int64_t>(static_cast<int64_t>(v)));
          break;
        }
        case 'G': {  // BINFLOAT (big-endian)
          uint64_t v = 0;
          for (int i = 0; i < 8; ++i) v = (v << 8) | byte();
          double x;
          std::memcpy(&x, &v, 8);
          stack_.push_back(make(x));
          break;
        }
        case 'X':
          stack_.push_back(make(bytes(le(4))));
          break;  // BINUNICODE
        case 0x8c:
          stack_.push_back(make(bytes(byte())));
          break;  // SHORT_BINUNICODE
        case 'T':
          stack_.push_back(make(bytes(le(4))));
          break;  // BINSTRING
        case 'U':
          stack_.push_back(make(bytes(byte())));
          break;     // SHORT_BINSTRING
        case 'c': {  // GLOBAL
          std::string module = line(), name = line();
          stack_.push_back(make(Global{module, name}));
          break;
        }
        case 0x93: {  // STACK_GLOBAL
          ValuePtr name = pop(), module = pop();
          stack_.push_back(make(Global{str(module), str(name)}));
          break;
        }
        case 'q':
          memo(byte());
          break;  // BINPUT
        case 'r':
          memo(le(4));
          break;  // LONG_BINPUT
        case 0x94:
          memo(memo_.size());
          break;  // MEMOIZE
        case 'h':
          stack_.push_back(memo_at(byte()));
          break;  // BINGET
        case 'j':
          stack_.push_back(memo_at(le(4)));
          break;  // LONG_BINGET
        case ')':
          stack_.push_back(make(Tuple{}));
          break;  // EMPTY_TUPLE
        case 0x85:
          tuple_n(1);
          break;
        case 0x86:
          tuple_n(2);
          break;
        case 0x87:
          tuple_n(3);
          break;
        case 't':
          stack_.push_back(make(Tuple{since_mark()}));
          break;
        case '}':
          stack_.push_back(make(Dict{}));
          break;  // EMPTY_DICT
        case ']':
          stack_.push_back(make(List{}));
          break;     // EMPTY_LIST
        case 's': {  // SETITEM
          ValuePtr v = pop(), k = pop();
          dict_top()->items.emplace_back(k, v);
          break;
        }
        case 'u': {  // SETITEMS
          std::vector<ValuePtr> kv = since_mark();
          EPE_CHECK(kv.size() % 2 == 0, "odd SETITEMS");
          Dict* d = dict_top();
          for (size_t i = 0; i < kv.size(); i += 2) d->items.emplace_back(kv[i], kv[i + 1]);
          break;
        }
        case 'a': {  // APPEND
          ValuePtr v = pop();
          list_top()->items.push_back(v);
          break;
        }
        case 'e': {  // APPENDS
          std::vector<ValuePtr> vs = since_mark();
          List* l = list_top();
          l->items.insert(l->items.end(), vs.begin(), vs.end());
          break;
        }
        case 'Q': {  // BINPERSID
          ValuePtr id = pop();
          stack_.push_back(persistent(id));
          break;
        }
        case 'R': {  // REDUCE
          ValuePtr args = pop(), fn = pop();
          stack_.push_back(reduce(fn, args));
          break;
        }
        case 'b':
          pop();
          break;  // BUILD: attributes (e.g. _metadata) dropped
        case '0':
          pop();
          break;  // POP
        default:
          throw UserError(cat("unsupported pickle opcode 0x", std::hex, static_cast<int>(op), " at byte ", pos_ - 1));
      }
    }
  }

 private:
  unsigned char byte() {
    EPE_CHECK(pos_ < d_.size(), "the pickle ends early");
    return static_cast<unsigned char>(d_[pos_++]);
  }
  uint64_t le(int n) {
    uint64_t v = 0;
    for (int i = 0; i < n; ++i) v |= static_cast<uint64_t>(byte()) << (8 * i);
    return v;
  }
  std::string bytes(uint64_t n) {
    EPE_CHECK(n <= d_.size() - pos_, "the pickle ends early");
    std::string s = d_.substr(pos_, n);
    pos_ += n;
    return s;
  }
  std::string line() {
    size_t e = d_.find('\n', pos_);
    EPE_CHECK(e != std::string::npos, "the pickle ends early");
    std::string s = d_.substr(pos_, e - pos_);
    pos_ = e + 1;
    return s;
  }
  ValuePtr pop() {
    EPE_CHECK(!stack_.empty(), "pickle stack underflow");
    ValuePtr v = stack_.back();
    stack_.pop_back();
    return v;
  }
  void memo(uint64_t i) {
    EPE_CHECK(!stack_.empty(), "pickle stack underflow");
    memo_[i] = stack_.back();
  }
  ValuePtr memo_at(uint64_t i) {
    auto it = memo_.find(i);
    EPE_CHECK(it != memo_.end(), "pickle refers to an unknown memo entry ", i);
    return it->second;
  }
  std::vector<ValuePtr> since_mark() {
    size_t m = stack_.size();
    while (m > 0 && !stack_[m - 1]->get<Mark>()) --m;
    EPE_CHECK(m > 0, "pickle MARK missing");
    std::vector<ValuePtr> out(stack_.begin() + m, stack_.end());
    stack_.resize(m - 1);
    return out;
  }
  void tuple_n(size_t n) {
    EPE_CHECK(stack_.size() >= n, "pickle stack underflow");
    std::vector<ValuePtr> items(stack_.end() - n, stack_.end());
    stack_.resize(stack_.size() - n);
    stack_.push_back(make(Tuple{items}));
  }
  Dict* dict_top() {
    EPE_CHECK(!stack_.empty() && stack_.back()->get<Dict>(), "SETITEM on something that is not a dict");
    return stack_.back()->get<Dict>();
  }
  List* list_top() {
    EPE_CHECK(!stack_.empty() && stack_.back()->get<List>(), "APPEND on something that is not a list");
    return stack_.back()->get<List>();
  }
  static const std::string& str(const ValuePtr& v) {
    auto* s = v->get<std::string>();
    EPE_CHECK(s, "expected a string in the pickle");
    return *s;
  }
  static int64_t integer(const ValuePtr& v) {
    auto* i = v->get<int64_t>();
    EPE_CHECK(i, "expected an integer in the pickle");
    return *i;
  }
  static std::vector<int64_t> ints(const ValuePtr& v) {
    auto* t = v->get<Tuple>();
    EPE_CHECK(t, "expected a tuple of integers in the pickle");
    std::vector<int64_t> out;
    for (auto& x : t->items) out.push_back(integer(x));
    return out;
  }

  // ('storage', torch.<Type>Storage, key, location, numel) in the zip format; the legacy
  // format adds view_metadata: None, or (view key, offset, view size) for a storage view.
  ValuePtr persistent(const ValuePtr& id) {
    auto* t = id->get<Tuple>();
    EPE_CHECK(t && t->items.size() >= 5 && str(t->items[0]) == "storage", "unsupported persistent id in the pickle");
    auto* g = t->items[1]->get<Global>();
    EPE_CHECK(g, "storage without a type");
    Storage s{storage_dtype(g->name), str(t->items[2]), integer(t->items[4])};
    EPE_CHECK(s.numel >= 0, "negative storage size");
    auto [it, fresh] = storages_.emplace(s.key, s);
    EPE_CHECK(fresh || (it->second.dtype == s.dtype && it->second.numel == s.numel), "storage ", s.key,
              " is declared twice with different types or sizes");
    if (t->items.size() >= 6 && t->items[5]->get<Tuple>()) {
      auto* view = t->items[5]->get<Tuple>();
      EPE_CHECK(view->items.size() == 3, "malformed storage view in the pickle");
      const int64_t off = integer(view->items[1]), n = integer(view->items[2]);
      EPE_CHECK(off >= 0 && n >= 0 && off + n <= s.numel, "storage view outside its storage");
      s.view_offset = off;
      s.numel = n;
    }
    return make(s);
  }

  ValuePtr reduce(const ValuePtr& fn, const ValuePtr& args) {
    auto* g = fn->get<Global>();
    auto* a = args->get<Tuple>();
    EPE_CHECK(g && a, "unsupported REDUCE in the pickle");
    const std::string full = g->module + "." + g->name;
    if (full == "collections.OrderedDict") return make(Dict{});
    // LibTorch's torch::pickle_save tags typed containers: restore_type_tag(value, "Dict[str, Tensor]").
    if (full == "torch.jit._pickle.restore_type_tag" && !a->items.empty()) return a->items[0];
    if (full == "torch._utils._rebuild_tensor_v2" || full == "torch._utils._rebuild_tensor") {
      EPE_CHECK(a->items.size() >= 4, "malformed tensor in the pickle");
      auto* s = a->items[0]->get<Storage>();
      EPE_CHECK(s, "tensor without storage in the pickle");
      return make(TensorRef{*s, integer(a->items[1]), ints(a->items[2]), ints(a->items[3])});
    }
    if (full == "torch._utils._rebuild_parameter") {
      EPE_CHECK(!a->items.empty() && a->items[0]->get<TensorRef>(), "malformed parameter in the pickle");
      return a->items[0];
    }
    return make(Opaque{full});
  }

  const std::string& d_;
  size_t pos_ = 0;
  std::vector<ValuePtr> stack_;
  std::map<uint64_t, ValuePtr> memo_;
  std::map<std::string, Storage> storages_;  // every storage the pickle names, by key
};

// The tensor `r` describes, copied out of its storage's elements `flat` ([numel] of its dtype).
at::Tensor materialize(const TensorRef& r, const std::map<std::string, at::Tensor>& flat) {
  const Storage& s = r.s;
  EPE_CHECK(r.size.size() == r.stride.size(), "tensor size and stride differ in length");
  EPE_CHECK(r.offset >= 0, "negative tensor offset");
  bool empty = false;
  int64_t extent = r.offset;  // last element's position
  for (size_t i = 0; i < r.size.size(); ++i) {
    EPE_CHECK(r.size[i] >= 0 && r.stride[i] >= 0 && r.size[i] < (int64_t(1) << 40) && r.stride[i] < (int64_t(1) << 40),
              "tensor size or stride out of range");
    if (r.size[i] == 0) empty = true;
    if (r.size[i] > 0) extent += (r.size[i] - 1) * r.stride[i];
  }
  if (empty) return torch::empty(r.size, torch::TensorOptions().dtype(s.dtype));
  EPE_CHECK(extent < s.numel, "tensor lies outside its storage");
  auto it = flat.find(s.key);
  EPE_ASSERT(it != flat.end(), "storage ", s.key, " was not read");
  return it->second.narrow(0, s.view_offset, s.numel).as_strided(r.size, r.stride, r.offset).clone();
}

// The state dict's tensors from the unpickled root (a dict of tensors).
std::map<std::string, at::Tensor> dict_tensors(const std::string& path, const ValuePtr& root,
                                               const std::map<std::string, at::Tensor>& flat) {
  Dict* d = root->get<Dict>();
  EPE_CHECK(d, "weights file '", path,
            "' does not hold a dict; save the model's state dict: torch.save(model.state_dict(), path)");
  std::map<std::string, at::Tensor> out;
  std::vector<std::string> nested;
  for (auto& [k, v] : d->items) {
    auto* key = k->get<std::string>();
    if (!key) continue;
    if (auto* t = v->get<TensorRef>()) out[*key] = materialize(*t, flat);
    if (v->get<Dict>()) nested.push_back(*key);
  }
  EPE_CHECK(!out.empty(), "weights file '", path, "' holds a dict without tensors",
            nested.empty() ? std::string()
                           : cat(" (it nests dicts under '", nested.front(), "': save that state dict on its own)"));
  return out;
}

at::Tensor flat_storage(const Storage& s, const void* data, size_t nbytes, const std::string& where) {
  const size_t elem = c10::elementSize(s.dtype);
  const size_t want = static_cast<size_t>(s.numel + s.view_offset) * elem;
  EPE_CHECK(nbytes >= want, "storage ", where, " is shorter than declared (", nbytes, " < ", want, " bytes)");
  at::Tensor t = torch::empty({s.numel + s.view_offset}, torch::TensorOptions().dtype(s.dtype));
  std::memcpy(t.data_ptr(), data, want);
  return t;
}

// Legacy format (torch.save with _use_new_zipfile_serialization=False, the default before
// PyTorch 1.6): five pickles back to back — magic number, protocol version (1001), system info,
// the object, the list of storage keys — then per key an int64 element count and the raw
// little-endian elements.
std::map<std::string, at::Tensor> read_legacy(const std::string& path, const std::string& file) {
  PickleReader magic(file);
  ValuePtr m = magic.run();
  auto* mo = m->get<Opaque>();
  static const std::string kMagic("long:\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19", 15);
  EPE_CHECK(mo && mo->what == kMagic, "no PyTorch magic number at the start");
  PickleReader proto(file, magic.pos());
  ValuePtr p = proto.run();
  EPE_CHECK(p->get<int64_t>() && *p->get<int64_t>() == 1001, "unsupported legacy protocol version");
  PickleReader info(file, proto.pos());
  ValuePtr sys = info.run();
  if (auto* d = sys->get<Dict>())
    for (auto& [k, v] : d->items)
      if (k->get<std::string>() && *k->get<std::string>() == "little_endian" && v->get<bool>())
        EPE_CHECK(*v->get<bool>(), "the file was written on a big-endian machine");
  PickleReader object(file, info.pos());
  ValuePtr root = object.run();
  PickleReader keys(file, object.pos());
  ValuePtr kl = keys.run();
  auto* list = kl->get<List>();
  EPE_CHECK(list, "no storage key list after the object");
  std::map<std::string, at::Tensor> flat;
  size_t pos = keys.pos();
  for (auto& kv : list->items) {
    auto* key = kv->get<std::string>();
    EPE_CHECK(key, "a storage key is not a string");
    auto it = object.storages().find(*key);
    EPE_CHECK(it != object.storages().end(), "storage ", *key, " is not used by the object");
    Storage root_storage = it->second;
    root_storage.view_offset = 0;  // the file holds the root storage
    EPE_CHECK(file.size() - pos >= 8, "the file ends before storage ", *key);
    int64_t n = 0;
    std::memcpy(&n, file.data() + pos, 8);
    pos += 8;
    EPE_CHECK(n >= 0 && n <= int64_t(file.size() - pos), "storage ", *key, " has a bad element count");
    EPE_CHECK(n >= root_storage.numel, "storage ", *key, " holds ", n, " elements, the pickle says ",
              root_storage.numel);
    root_storage.numel = n;
    const size_t nbytes = static_cast<size_t>(n) * c10::elementSize(root_storage.dtype);
    EPE_CHECK(nbytes <= file.size() - pos, "the file ends inside storage ", *key);
    flat[*key] = flat_storage(root_storage, file.data() + pos, nbytes, *key);
    pos += nbytes;
  }
  for (auto& [key, s] : object.storages()) EPE_CHECK(flat.count(key), "storage ", key, " is missing from the file");
  return dict_tensors(path, root, flat);
}

}  // namespace

bool is_legacy_torch_file(const unsigned char* head, size_t n) {
  // PROTO 2, then LONG1 of 10 bytes: the magic number 0x1950a86a20f9469cfc6c.
  return n >= 4 && head[0] == 0x80 && head[1] == 0x02 && head[2] == 0x8a && head[3] == 0x0a;
}

std::map<std::string, at::Tensor> read_torch_state_dict(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  EPE_CHECK(in, "cannot read weights file '", path, "'");
  unsigned char magic[4] = {0};
  in.read(reinterpret_cast<char*>(magic), sizeof magic);
  if (is_legacy_torch_file(magic, static_cast<size_t>(in.gcount()))) {
    // The legacy format is read from memory (its storages follow the pickles); a zip archive is
    // left to LibTorch's reader, which reads only the records asked for.
    in.seekg(0);
    const std::string file((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    try {
      return read_legacy(path, file);
    } catch (const UserError& e) {
      const std::string what = e.what();
      if (what.rfind("weights file", 0) == 0) throw;
      throw UserError(cat("weights file '", path,
                          "' is in PyTorch's legacy (pre-1.6) torch.save format but cannot be read: ", what));
    }
  }
  in.close();
  ValuePtr root;
  std::map<std::string, at::Tensor> flat;
  try {
    caffe2::serialize::PyTorchStreamReader zip(path);
    EPE_CHECK(zip.hasRecord("data.pkl"), "no data.pkl in the archive");
    auto [ptr, size] = zip.getRecord("data.pkl");
    const std::string pkl(static_cast<const char*>(ptr.get()), size);
    PickleReader reader(pkl);
    root = reader.run();
    for (auto& [key, s] : reader.storages()) {
      auto [data, nbytes] = zip.getRecord("data/" + key);
      Storage whole = s;
      whole.view_offset = 0;
      flat[key] = flat_storage(whole, data.get(), nbytes, "data/" + key);
    }
  } catch (const std::exception& e) {
    std::string what = e.what();
    what = what.substr(0, what.find('\n'));
    throw UserError(cat("weights file '", path,
                        "' is a zip archive but not a state dict written by torch.save (a TorchScript model, an "
                        ".npz, or a damaged file?): ",
                        what));
  }
  return dict_tensors(path, root, flat);
}

}  // namespace epe::nn
