#include "epe/core/options.h"

#include <boost/program_options.hpp>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <fstream>
#include <iostream>
#include <limits>
#include <sstream>

#include "epe/core/error.h"

namespace po = boost::program_options;

namespace epe {

std::vector<std::string> split_list(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::string cur;
  auto flush = [&] {
    std::size_t a = cur.find_first_not_of(" \t"), b = cur.find_last_not_of(" \t");
    if (a != std::string::npos) out.push_back(cur.substr(a, b - a + 1));
    cur.clear();
  };
  for (char c : s) {
    if (c == sep)
      flush();
    else
      cur += c;
  }
  flush();
  return out;
}

std::string join(const std::vector<std::string>& parts, const std::string& sep) {
  std::string out;
  for (std::size_t i = 0; i < parts.size(); ++i) out += (i ? sep : "") + parts[i];
  return out;
}

enum class Kind { scalar, flag, multi };

struct OptionSet::Entry {
  std::string name, spec, help;
  Kind kind = Kind::scalar;
  bool required = false, recorded = true;
  int positional = 0;
  std::string default_text;
  std::function<std::string()> to_string;
  std::function<void(const std::string&)> assign;                     // scalar and flag
  std::function<void(const std::vector<std::string>&)> assign_multi;  // multi
  std::function<std::vector<std::string>()> values;                   // multi
};

namespace {

std::string option_label(const std::string& name) {
  return "--" + name;
}

template <class T>
T parse_integer(const std::string& name, const std::string& v) {
  errno = 0;
  char* end = nullptr;
  bool ok = !v.empty();
  T out = 0;
  if constexpr (std::is_signed_v<T>) {
    long long x = std::strtoll(v.c_str(), &end, 10);
    ok = ok && *end == '\0' && errno != ERANGE && x >= static_cast<long long>(std::numeric_limits<T>::min()) &&
         x <= static_cast<long long>(std::numeric_limits<T>::max());
    out = static_cast<T>(x);
  } else {
    unsigned long long x = std::strtoull(v.c_str(), &end, 10);
    ok = ok && v.find('-') == std::string::npos && *end == '\0' && errno != ERANGE &&
         x <= static_cast<unsigned long long>(std::numeric_limits<T>::max());
    out = static_cast<T>(x);
  }
  if (!ok) throw UserError(cat("option ", option_label(name), ": '", v, "' is not an integer in range"));
  return out;
}

double parse_real(const std::string& name, const std::string& v) {
  errno = 0;
  char* end = nullptr;
  double x = std::strtod(v.c_str(), &end);
  if (v.empty() || *end != '\0' || errno == ERANGE || !std::isfinite(x))
    throw UserError(cat("option ", option_label(name), ": '", v, "' is not a finite number"));
  return x;
}

bool parse_bool(const std::string& name, const std::string& v) {
  if (v == "1" || v == "true" || v == "yes" || v == "on") return true;
  if (v == "0" || v == "false" || v == "no" || v == "off") return false;
  throw UserError(cat("option ", option_label(name), ": '", v, "' is not true/false"));
}

std::string real_text(double x) {
  std::ostringstream os;
  os.precision(std::numeric_limits<double>::max_digits10);
  os << x;
  std::string s = os.str();
  // Prefer the short form when it round-trips (0.5, not 0.50000000000000000).
  std::ostringstream shorter;
  shorter << x;
  if (std::strtod(shorter.str().c_str(), nullptr) == x) return shorter.str();
  return s;
}

// Finds the 1-based line of `key` in an INI file, or 0. A key under a [section] is named
// "section.key" by Boost.Program_options, and matched so here.
long find_key_line(const std::string& path, const std::string& key) {
  std::ifstream in(path);
  std::string line, section;
  long n = 0;
  while (std::getline(in, line)) {
    ++n;
    std::size_t a = line.find_first_not_of(" \t");
    if (a == std::string::npos || line[a] == '#') continue;
    if (line[a] == '[') {
      const std::size_t b = line.find(']', a);
      section = line.substr(a + 1, b == std::string::npos ? std::string::npos : b - a - 1) + ".";
      continue;
    }
    std::size_t eq = line.find('=', a);
    std::string k = line.substr(a, eq == std::string::npos ? std::string::npos : eq - a);
    while (!k.empty() && (k.back() == ' ' || k.back() == '\t' || k.back() == '\r')) k.pop_back();
    if (section + k == key) return n;
  }
  return 0;
}

// The 1-based line of the first line that is neither blank, a comment, a [section] nor
// `key = value`, or 0.
long find_invalid_line(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  long n = 0;
  while (std::getline(in, line)) {
    ++n;
    std::size_t a = line.find_first_not_of(" \t\r");
    if (a == std::string::npos || line[a] == '#' || line[a] == '[') continue;
    if (line.find('=', a) == std::string::npos) return n;
  }
  return 0;
}

}  // namespace

OptionSet::OptionSet(std::string usage, std::string about)
    : usage_(std::move(usage)),
      about_(std::move(about)),
      desc_(std::make_unique<po::options_description>("Options", 100, 50)) {}

OptionSet::~OptionSet() = default;

OptionSet::Opt& OptionSet::Opt::required() {
  set_->entries_[index_].required = true;
  return *this;
}
OptionSet::Opt& OptionSet::Opt::positional(int max_count) {
  set_->entries_[index_].positional = max_count;
  return *this;
}
OptionSet::Opt& OptionSet::Opt::not_recorded() {
  set_->entries_[index_].recorded = false;
  return *this;
}

namespace {
std::string long_name(const std::string& spec) {
  return spec.substr(0, spec.find(','));
}
}  // namespace

#define EPE_ADD_SCALAR(T, TO_STRING, FROM_STRING)                                                 \
  template <>                                                                                     \
  OptionSet::Opt OptionSet::add<T>(const std::string& spec, T* target, const std::string& help) { \
    Entry e;                                                                                      \
    e.spec = spec;                                                                                \
    e.name = long_name(spec);                                                                     \
    e.help = help;                                                                                \
    const std::string name = e.name;                                                              \
    e.to_string = [target] { return TO_STRING; };                                                 \
    e.assign = [target, name](const std::string& v) { *target = FROM_STRING; };                   \
    e.default_text = e.to_string();                                                               \
    entries_.push_back(std::move(e));                                                             \
    return Opt(this, entries_.size() - 1);                                                        \
  }

EPE_ADD_SCALAR(std::string, *target, v)
EPE_ADD_SCALAR(int, std::to_string(*target), parse_integer<int>(name, v))
EPE_ADD_SCALAR(std::int64_t, std::to_string(*target), parse_integer<std::int64_t>(name, v))
EPE_ADD_SCALAR(std::uint64_t, std::to_string(*target), parse_integer<std::uint64_t>(name, v))
EPE_ADD_SCALAR(double, real_text(*target), parse_real(name, v))
EPE_ADD_SCALAR(float, real_text(*target), static_cast<float>(parse_real(name, v)))
EPE_ADD_SCALAR(std::vector<int>,
               join(
                   [&] {
                     std::vector<std::string> p;
                     for (int x : *target) p.push_back(std::to_string(x));
                     return p;
                   }(),
                   ","),
               [&] {
                 std::vector<int> r;
                 for (auto& s : split_list(v)) r.push_back(parse_integer<int>(name, s));
                 return r;
               }())
EPE_ADD_SCALAR(std::vector<double>,
               join(
                   [&] {
                     std::vector<std::string> p;
                     for (double x : *target) p.push_back(real_text(x));
                     return p;
                   }(),
                   ","),
               [&] {
                 std::vector<double> r;
                 for (auto& s : split_list(v)) r.push_back(parse_real(name, s));
                 return r;
               }())
#undef EPE_ADD_SCALAR

OptionSet::Opt OptionSet::add_text(const std::string& spec, std::function<std::string()> to_string,
                                   std::function<void(const std::string&)> assign, const std::string& help) {
  Entry e;
  e.spec = spec;
  e.name = long_name(spec);
  e.help = help;
  e.to_string = std::move(to_string);
  e.assign = std::move(assign);
  e.default_text = e.to_string();
  entries_.push_back(std::move(e));
  return Opt(this, entries_.size() - 1);
}

template <>
OptionSet::Opt OptionSet::add<bool>(const std::string& spec, bool* target, const std::string& help) {
  Entry e;
  e.spec = spec;
  e.name = long_name(spec);
  e.help = help;
  e.kind = Kind::flag;
  const std::string name = e.name;
  e.to_string = [target] { return std::string(*target ? "true" : "false"); };
  e.assign = [target, name](const std::string& v) { *target = parse_bool(name, v); };
  e.default_text = e.to_string();
  entries_.push_back(std::move(e));
  return Opt(this, entries_.size() - 1);
}

template <>
OptionSet::Opt OptionSet::add<std::vector<std::string>>(const std::string& spec, std::vector<std::string>* target,
                                                        const std::string& help) {
  Entry e;
  e.spec = spec;
  e.name = long_name(spec);
  e.help = help + " (repeatable)";
  e.kind = Kind::multi;
  e.to_string = [target] { return join(*target, ","); };
  e.assign_multi = [target](const std::vector<std::string>& v) { *target = v; };
  e.values = [target] { return *target; };
  e.default_text = e.to_string();
  entries_.push_back(std::move(e));
  return Opt(this, entries_.size() - 1);
}

std::string OptionSet::help_text() const {
  po::options_description desc("Options", 100, 50);
  for (const auto& e : entries_) {
    std::string help = e.help;
    if (e.required) help += " [required]";
    if (e.kind == Kind::flag)
      desc.add_options()(e.spec.c_str(), help.c_str());
    else if (e.required || e.default_text.empty())
      desc.add_options()(e.spec.c_str(), po::value<std::string>()->value_name("ARG"), help.c_str());
    else
      desc.add_options()(e.spec.c_str(), po::value<std::string>()->value_name("ARG")->default_value(e.default_text),
                         help.c_str());
  }
  desc.add_options()("config", po::value<std::string>()->value_name("FILE"),
                     "read options from an INI file (keys = option names; the command line wins)");
  desc.add_options()("help,h", "show this help and exit");
  std::ostringstream os;
  os << "Usage: " << usage_ << "\n\n" << about_ << "\n\n" << desc;
  return os.str();
}

bool OptionSet::parse(const std::vector<std::string>& args) {
  return parse(args, std::cout);
}

bool OptionSet::parse(const std::vector<std::string>& args, std::ostream& help_out) {
  po::options_description desc;
  po::positional_options_description pos;
  for (auto& e : entries_) {
    if (e.kind == Kind::flag)
      desc.add_options()(e.spec.c_str(), po::value<std::string>()->implicit_value("true")->zero_tokens(), "");
    else if (e.kind == Kind::multi)
      desc.add_options()(e.spec.c_str(), po::value<std::vector<std::string>>()->composing(), "");
    else
      desc.add_options()(e.spec.c_str(), po::value<std::string>(), "");
  }
  for (auto& e : entries_)
    if (e.positional != 0) pos.add(e.name.c_str(), e.positional);
  desc.add_options()("config", po::value<std::string>(), "")("help,h", "");

  po::variables_map vm, cfg;  // command line and config file, kept apart: the command line wins
  try {
    po::store(po::command_line_parser(args).options(desc).positional(pos).run(), vm);
  } catch (const po::too_many_positional_options_error&) {
    throw UserError(cat(usage_, ": too many arguments (see --help)"));
  } catch (const po::error& e) {
    throw UserError(cat(usage_.substr(0, usage_.find(" -")), ": ", e.what(), " (see --help)"));
  }
  if (vm.count("help")) {
    help_out << help_text();
    return false;
  }
  if (vm.count("config")) {
    config_path_ = vm["config"].as<std::string>();
    std::ifstream in(config_path_);
    EPE_CHECK(in, "option --config: cannot read '", config_path_, "'");
    try {
      po::store(po::parse_config_file(in, desc, false), cfg);
    } catch (const po::error& e) {
      std::string key;
      if (auto* u = dynamic_cast<const po::error_with_option_name*>(&e)) key = u->get_option_name();
      while (!key.empty() && key[0] == '-') key.erase(0, 1);
      long line = key.empty() ? 0 : find_key_line(config_path_, key);
      if (line == 0 && dynamic_cast<const po::invalid_config_file_syntax*>(&e)) line = find_invalid_line(config_path_);
      std::string what = e.what();
      if (key.find('.') != std::string::npos)  // a key under a [section]: epe's configs have none
        what += " (epe config files have no [sections]: keys are the long option names)";
      throw UserError(cat(line > 0 ? at_line(config_path_, line, "") : config_path_ + ": ", what));
    }
  }
  given_.clear();
  for (auto& e : entries_) {
    const bool from_cmd = vm.count(e.name) > 0;
    const po::variables_map& src = from_cmd ? vm : cfg;
    if (!src.count(e.name)) {
      if (e.required)
        throw UserError(cat(usage_.substr(0, usage_.find(" -")), ": option --", e.name, " is required (see --help)"));
      continue;
    }
    given_.push_back(e.name);
    const auto& v = src[e.name];
    try {
      if (e.kind == Kind::multi)
        e.assign_multi(v.as<std::vector<std::string>>());
      else
        e.assign(v.as<std::string>());
    } catch (const UserError& err) {
      if (from_cmd) throw;
      long line = find_key_line(config_path_, e.name);
      throw UserError(line > 0 ? at_line(config_path_, line, err.what()) : cat(config_path_, ": ", err.what()));
    }
  }
  return true;
}

bool OptionSet::given(const std::string& name) const {
  for (auto& g : given_)
    if (g == name) return true;
  return false;
}

std::string OptionSet::resolved_ini() const {
  std::ostringstream os;
  for (const auto& e : entries_) {
    if (!e.recorded) continue;
    if (e.kind == Kind::multi) {
      // Repeat the key for each value so that --config reads it back.
      for (auto& v : e.values()) os << e.name << " = " << v << "\n";
    } else {
      os << e.name << " = " << e.to_string() << "\n";
    }
  }
  return os.str();
}

std::pair<int, int> parse_hw(const std::string& s, const std::string& option, int max_side) {
  const std::size_t x = s.find_first_of("xX");
  long long v[2] = {0, 0};
  bool ok = x != std::string::npos;
  for (int k = 0; ok && k < 2; ++k) {
    const std::string part = k == 0 ? s.substr(0, x) : s.substr(x + 1);
    std::size_t used = 0;
    try {
      v[k] = std::stoll(part, &used);
    } catch (...) {
      ok = false;
    }
    ok = ok && !part.empty() && used == part.size() && v[k] >= 1 && v[k] <= max_side;
  }
  EPE_CHECK(ok, "option ", option, ": '", s, "' is not HxW with sides in 1..", max_side, " (e.g. 526x957)");
  return {static_cast<int>(v[0]), static_cast<int>(v[1])};
}

std::vector<std::pair<std::string, std::string>> parse_key_values(const std::string& text) {
  std::vector<std::pair<std::string, std::string>> out;
  std::istringstream in(text);
  std::string line;
  auto trim = [](std::string x) {
    x.erase(0, x.find_first_not_of(" \t"));
    x.erase(x.find_last_not_of(" \t\r") + 1);
    return x;
  };
  while (std::getline(in, line)) {
    const std::string t = trim(line);
    const auto eq = t.find('=');
    if (t.empty() || t[0] == '#' || eq == std::string::npos) continue;
    out.emplace_back(trim(t.substr(0, eq)), trim(t.substr(eq + 1)));
  }
  return out;
}

std::string first_line_difference(const std::string& a, const std::string& b) {
  std::istringstream ia(a), ib(b);
  std::string la, lb;
  for (;;) {
    const bool ga = static_cast<bool>(std::getline(ia, la)), gb = static_cast<bool>(std::getline(ib, lb));
    if (!ga && !gb) return "";
    if (!ga) la = "(nothing)";
    if (!gb) lb = "(nothing)";
    if (la != lb) return "'" + la + "' then, '" + lb + "' now";
  }
}

}  // namespace epe
