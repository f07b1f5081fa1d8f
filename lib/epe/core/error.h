#pragma once
// Two tiers of errors (see docs/DESIGN.md §7):
//   UserError     — bad input, options or files; `epe` prints the message and exits 1.
//   InternalError — a broken invariant, i.e. a bug; `epe` prints it and exits 2.
// Messages name what is at fault: the file (and line), or the option.

#include <sstream>
#include <stdexcept>
#include <string>

namespace epe {

class UserError : public std::runtime_error {
 public:
  explicit UserError(const std::string& msg) : std::runtime_error(msg) {}
};

class InternalError : public std::logic_error {
 public:
  explicit InternalError(const std::string& msg) : std::logic_error(msg) {}
};

namespace detail {
inline void append(std::ostringstream&) {}
template <class T, class... R>
void append(std::ostringstream& os, const T& v, const R&... rest) {
  os << v;
  append(os, rest...);
}
}  // namespace detail

// Concatenates any streamable values into one string.
template <class... A>
std::string cat(const A&... args) {
  std::ostringstream os;
  detail::append(os, args...);
  return os.str();
}

// "path:line: message" — the form every line-numbered error uses.
std::string at_line(const std::string& path, long line, const std::string& msg);

[[noreturn]] void throw_internal(const char* file, int line, const char* cond, const std::string& msg);

}  // namespace epe

// Throws UserError(cat(...)) when `cond` is false. For input, files and options.
#define EPE_CHECK(cond, ...)                                      \
  do {                                                            \
    if (!(cond)) throw ::epe::UserError(::epe::cat(__VA_ARGS__)); \
  } while (0)

// Throws InternalError when `cond` is false. For invariants only, never for input;
// stays active in release builds.
#define EPE_ASSERT(cond, ...)                                                               \
  do {                                                                                      \
    if (!(cond)) ::epe::throw_internal(__FILE__, __LINE__, #cond, ::epe::cat(__VA_ARGS__)); \
  } while (0)
