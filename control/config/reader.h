/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Walking a libconfig tree with every problem collected as a ConfigError
 * (file, line, "path: sentence") instead of an exception. Paths are
 * written as a user reads them: "ports[1].address", "xha.mobile_nodes[0].key".
 *
 * Getters return false when the value is absent or wrong; a wrong one
 * has been reported, an absent one only when it was required. Nothing
 * here calls a libconfig accessor that can throw without checking the
 * type first.
 */
#pragma once

#include <libconfig.h++>

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"

namespace mipvpn::cfg {

using libconfig::Setting;

/* "a" + "b" -> "a.b"; "" + "b" -> "b". */
std::string join(const std::string& path, std::string_view name);
/* "ports" + 1 -> "ports[1]". */
std::string index(const std::string& path, size_t i);

class Reader {
 public:
  /* include_dir: where libconfig looked for @include files ("" for none). */
  explicit Reader(std::string file, std::string include_dir = "")
      : file_(std::move(file)), include_dir_(std::move(include_dir)) {}

  std::vector<ConfigError>& errors() noexcept { return errors_; }
  std::vector<ConfigError>& warnings() noexcept { return warnings_; }

  void error(const Setting& at, const std::string& path, const std::string& msg);
  void warning(const Setting& at, const std::string& path, const std::string& msg);
  void file_error(const std::string& msg) { errors_.push_back({file_, 0, msg}); }
  /* The line of a setting: its own, else its nearest parent's that has one. */
  int line(const Setting& s) const;

  /* Report every member of group g not in known ("did you mean" included).
   * False when g is not a group (reported). */
  bool check_group(const Setting& g, const std::string& path, std::initializer_list<std::string_view> known);

  /* The member name of group g; nullptr when absent (an error when required). */
  const Setting* child(const Setting& g, const std::string& path, const char* name, bool required);

  /* A value at s (whose path is p). False if of the wrong type or malformed. */
  bool str(const Setting& s, const std::string& p, std::string* out);
  bool boolean(const Setting& s, const std::string& p, bool* out);
  bool integer(const Setting& s, const std::string& p, int64_t lo, int64_t hi, int64_t* out);
  bool addr(const Setting& s, const std::string& p, Ipv4Addr* out);   /* unicast host address */
  bool prefix(const Setting& s, const std::string& p, Ipv4Prefix* out);
  bool ifaddr(const Setting& s, const std::string& p, Ipv4IfAddr* out);
  bool mac(const Setting& s, const std::string& p, MacAddr* out);
  bool hex(const Setting& s, const std::string& p, std::vector<uint8_t>* out);
  /* A list or array whose elements are strings; elems gets each element
   * (nullptr for a wrong one, reported, so indices stay the user's). */
  bool strings(const Setting& s, const std::string& p, std::vector<const Setting*>* elems);
  /* A list ( {...}, ... ) of groups; nullptr for an element that is not one. */
  bool groups(const Setting& s, const std::string& p, std::vector<const Setting*>* elems);

  /* The same on member name of group g (path gp): false when absent too. */
  template <class T, class Fn>
  bool opt(const Setting& g, const std::string& gp, const char* name, T* out, Fn fn) {
    const Setting* c = child(g, gp, name, false);
    return c && (this->*fn)(*c, join(gp, name), out);
  }
  template <class T, class Fn>
  bool need(const Setting& g, const std::string& gp, const char* name, T* out, Fn fn) {
    const Setting* c = child(g, gp, name, true);
    return c && (this->*fn)(*c, join(gp, name), out);
  }
  /* Optional integer in [lo, hi] into an unsigned field of any width. */
  template <class U>
  bool opt_int(const Setting& g, const std::string& gp, const char* name, int64_t lo, int64_t hi, U* out) {
    const Setting* c = child(g, gp, name, false);
    int64_t v = 0;
    if (!c || !integer(*c, join(gp, name), lo, hi, &v)) return false;
    *out = static_cast<U>(v);
    return true;
  }
  template <class U>
  bool need_int(const Setting& g, const std::string& gp, const char* name, int64_t lo, int64_t hi, U* out) {
    const Setting* c = child(g, gp, name, true);
    int64_t v = 0;
    if (!c || !integer(*c, join(gp, name), lo, hi, &v)) return false;
    *out = static_cast<U>(v);
    return true;
  }

 private:
  bool want(const Setting& s, const std::string& p, bool ok, const char* what);
  std::string file_of(const Setting& s) const;

  std::string file_;
  std::string include_dir_;
  std::vector<ConfigError> errors_;
  std::vector<ConfigError> warnings_;
};

}  // namespace mipvpn::cfg
