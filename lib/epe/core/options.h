#pragma once
// One options mechanism for every stage: a stage's options struct binds its fields here
// once, and the same binding serves the command line, INI config files (`--config FILE`,
// keys are the long option names, the command line wins), `--help` (with defaults) and the
// record of resolved options written into every output (resolved_ini()).
//
//   CropsOptions o;                       // defaults live in the struct
//   OptionSet s("epe crops", "Embed crops with VGG-16.");
//   s.add("list", &o.list, "file list").required();
//   s.add("crop-size", &o.crop_size, "crop side in pixels");
//   if (!s.parse(args)) return 0;         // --help printed
//   o.check();

#include <cstdint>
#include <functional>
#include <iosfwd>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "epe/core/error.h"

namespace boost {
namespace program_options {
class options_description;
}
}  // namespace boost

namespace epe {

// The names of an enum option's values, in the order --help lists them, e.g.
//   const Choices<CropMode>& crop_modes() {
//     static const Choices<CropMode> c{{"random", CropMode::random}, {"grid", CropMode::grid}};
//     return c;
//   }
// Options hold the enum; only the binding (and the stores' records) see the names.
template <class E>
using Choices = std::vector<std::pair<std::string, E>>;

// The name of `v` (InternalError when the table lacks it: a bug).
template <class E>
const std::string& choice_name(const Choices<E>& choices, E v) {
  for (const auto& c : choices)
    if (c.second == v) return c.first;
  throw InternalError("choice_name: a value has no name in its Choices table");
}

// "a | b | c".
template <class E>
std::string choice_list(const Choices<E>& choices) {
  std::string s;
  for (const auto& c : choices) s += (s.empty() ? "" : " | ") + c.first;
  return s;
}

// The value named `name`; UserError "option --OPT: 'x' is not one of a | b | c" otherwise.
template <class E>
E parse_choice(const Choices<E>& choices, const std::string& name, const std::string& option) {
  for (const auto& c : choices)
    if (c.first == name) return c.second;
  throw UserError(cat("option ", option, ": '", name, "' is not one of ", choice_list(choices)));
}

// Splits "a,b,c" (trimming spaces, dropping empty parts).
std::vector<std::string> split_list(const std::string& s, char sep = ',');

class OptionSet {
 public:
  // `usage`: e.g. "epe check --list FILE --kind synthetic|real"; `about`: a paragraph for --help.
  OptionSet(std::string usage, std::string about);
  ~OptionSet();
  OptionSet(const OptionSet&) = delete;
  OptionSet& operator=(const OptionSet&) = delete;

  // Handle returned by add(): mark an option required or positional.
  class Opt {
   public:
    Opt& required();
    // Also accepted as the next positional argument(s); max_count -1 = unlimited.
    Opt& positional(int max_count = 1);
    // Excluded from resolved_ini() (e.g. --force, --log-level).
    Opt& not_recorded();

   private:
    friend class OptionSet;
    Opt(OptionSet* s, std::size_t i) : set_(s), index_(i) {}
    OptionSet* set_;
    std::size_t index_;
  };

  // Binds `*target`; its current value is the default. Supported T: std::string, bool
  // (a switch: `--flag`, or `flag = true` in a config file), int, int64, uint64, double,
  // float, std::vector<std::string> (repeatable), std::vector<int>/<double> (comma-separated).
  // `name` is the long name; "k,k" style adds a one-letter short name.
  template <class T>
  Opt add(const std::string& name, T* target, const std::string& help);

  // Binds an enum: the option takes the names in `choices` (listed in --help and recorded by
  // name in resolved_ini()). `choices` is captured by reference: a table with static storage.
  template <class E>
  Opt add(const std::string& name, E* target, const std::string& help, const Choices<E>& choices) {
    const std::string option = "--" + name.substr(0, name.find(','));
    return add_text(
        name, [target, &choices] { return choice_name(choices, *target); },
        [target, &choices, option](const std::string& v) { *target = parse_choice(choices, v, option); },
        help + " (" + choice_list(choices) + ")");
  }

  // An optional enum: unset (empty, the default) or one of `choices`, e.g. an override of a
  // preset's field.
  template <class E>
  Opt add(const std::string& name, std::optional<E>* target, const std::string& help, const Choices<E>& choices) {
    const std::string option = "--" + name.substr(0, name.find(','));
    return add_text(
        name, [target, &choices] { return *target ? choice_name(choices, **target) : std::string(); },
        [target, &choices, option](const std::string& v) {
          if (v.empty())
            target->reset();
          else
            *target = parse_choice(choices, v, option);
        },
        help + " (" + choice_list(choices) + "; empty = unset)");
  }

  // A comma-separated list of enum values ("a,b"), each one of `choices`.
  template <class E>
  Opt add(const std::string& name, std::vector<E>* target, const std::string& help, const Choices<E>& choices) {
    const std::string option = "--" + name.substr(0, name.find(','));
    return add_text(
        name,
        [target, &choices] {
          std::string s;
          for (E v : *target) s += (s.empty() ? "" : ",") + choice_name(choices, v);
          return s;
        },
        [target, &choices, option](const std::string& v) {
          target->clear();
          for (const auto& part : split_list(v)) target->push_back(parse_choice(choices, part, option));
        },
        help + " (comma-separated: " + choice_list(choices) + ")");
  }

  // A scalar option read and written through two functions (the value as text).
  Opt add_text(const std::string& name, std::function<std::string()> to_string,
               std::function<void(const std::string&)> assign, const std::string& help);

  // Parses args (the words after the command name). Returns false when --help was given
  // (help already printed to `help_out`). Throws UserError naming the option or the
  // config file (and line) at fault.
  bool parse(const std::vector<std::string>& args);
  bool parse(const std::vector<std::string>& args, std::ostream& help_out);

  // The resolved options as INI text ("name = value" lines), readable by --config.
  std::string resolved_ini() const;
  // Whether the user gave the option (command line or config) rather than the default.
  bool given(const std::string& name) const;
  std::string help_text() const;

 private:
  struct Entry;
  std::string usage_, about_;
  std::unique_ptr<boost::program_options::options_description> desc_;
  std::vector<Entry> entries_;
  std::vector<std::string> given_;
  std::string config_path_;
};

#define EPE_DECLARE_OPTION_TYPE(T) \
  template <>                      \
  OptionSet::Opt OptionSet::add<T>(const std::string& name, T* target, const std::string& help);
EPE_DECLARE_OPTION_TYPE(std::string)
EPE_DECLARE_OPTION_TYPE(bool)
EPE_DECLARE_OPTION_TYPE(int)
EPE_DECLARE_OPTION_TYPE(std::int64_t)
EPE_DECLARE_OPTION_TYPE(std::uint64_t)
EPE_DECLARE_OPTION_TYPE(double)
EPE_DECLARE_OPTION_TYPE(float)
EPE_DECLARE_OPTION_TYPE(std::vector<int>)
EPE_DECLARE_OPTION_TYPE(std::vector<double>)
EPE_DECLARE_OPTION_TYPE(std::vector<std::string>)
#undef EPE_DECLARE_OPTION_TYPE

std::string join(const std::vector<std::string>& parts, const std::string& sep);

// The first line where two recorded option texts (OptionSet::resolved_ini) differ, as
// "'a-line' then, 'b-line' now"; "" when they are equal.
std::string first_line_difference(const std::string& a, const std::string& b);

// "key = value" lines of INI-style text (blank lines and '#' comments skipped, spaces trimmed).
std::vector<std::pair<std::string, std::string>> parse_key_values(const std::string& text);

// Parses "HxW" (e.g. "526x957") into {H, W}, each in 1..max_side; UserError naming `option`.
std::pair<int, int> parse_hw(const std::string& s, const std::string& option, int max_side = 1 << 30);

}  // namespace epe
