/* SPDX-License-Identifier: BSD-3-Clause */
#include "config/reader.h"

#include "config/values.h"

namespace mipvpn::cfg {
namespace {

const char* type_name(Setting::Type t) {
  switch (t) {
    case Setting::TypeGroup: return "a group { ... }";
    case Setting::TypeArray: return "an array [ ... ]";
    case Setting::TypeList: return "a list ( ... )";
    case Setting::TypeInt:
    case Setting::TypeInt64: return "an integer";
    case Setting::TypeFloat: return "a number with a fraction";
    case Setting::TypeString: return "a string";
    case Setting::TypeBoolean: return "a boolean";
    case Setting::TypeNone: break;
  }
  return "nothing";
}

std::string quoted(const Setting& s) {
  return std::string("'") + static_cast<const char*>(s) + "'";
}

}  // namespace

std::string join(const std::string& path, std::string_view name) {
  if (path.empty()) return std::string(name);
  std::string r = path;
  r += '.';
  r += name;
  return r;
}

std::string index(const std::string& path, size_t i) { return path + "[" + std::to_string(i) + "]"; }

int Reader::line(const Setting& s) const {
  const Setting* p = &s;
  for (;;) {
    const unsigned l = p->getSourceLine();
    if (l != 0 || p->isRoot()) return static_cast<int>(l);
    p = &p->getParent();
  }
}

/* libconfig names an @include'd file as the directive wrote it. */
std::string Reader::file_of(const Setting& s) const {
  const char* f = s.getSourceFile();
  if (!f || file_ == f) return file_;
  if (f[0] == '/' || include_dir_.empty()) return f;
  return include_dir_ + "/" + f;
}

void Reader::error(const Setting& at, const std::string& path, const std::string& msg) {
  errors_.push_back({file_of(at), line(at), path.empty() ? msg : path + ": " + msg});
}

void Reader::warning(const Setting& at, const std::string& path, const std::string& msg) {
  warnings_.push_back({file_of(at), line(at), path.empty() ? msg : path + ": " + msg});
}

bool Reader::want(const Setting& s, const std::string& p, bool ok, const char* what) {
  if (!ok) error(s, p, std::string("expected ") + what + ", got " + type_name(s.getType()));
  return ok;
}

bool Reader::check_group(const Setting& g, const std::string& path,
                         std::initializer_list<std::string_view> known) {
  if (!want(g, path, g.isGroup(), "a group { ... }")) return false;
  const std::vector<std::string_view> names(known);
  for (int i = 0; i < g.getLength(); ++i) {
    const Setting& c = g[i];
    const char* n = c.getName();
    const std::string_view name = n ? n : "";
    bool found = false;
    for (std::string_view k : known) found = found || k == name;
    if (found) continue;
    std::string msg = "unknown setting '" + std::string(name) + "'";
    if (const std::string_view near = closest_name(name, names); !near.empty())
      msg += "; did you mean '" + std::string(near) + "'?";
    else
      msg += path.empty() ? " at the top level" : " in " + path;
    error(c, join(path, name), msg);
  }
  return true;
}

const Setting* Reader::child(const Setting& g, const std::string& path, const char* name, bool required) {
  if (g.isGroup() && g.exists(name)) return &g[name];
  if (required) {
    error(g, path, std::string("the setting '") + name + "' is required" +
                       (path.empty() ? "" : " in " + path));
  }
  return nullptr;
}

bool Reader::str(const Setting& s, const std::string& p, std::string* out) {
  if (!want(s, p, s.getType() == Setting::TypeString, "a string")) return false;
  *out = static_cast<const char*>(s);
  return true;
}

bool Reader::boolean(const Setting& s, const std::string& p, bool* out) {
  if (!want(s, p, s.getType() == Setting::TypeBoolean, "a boolean (true or false)")) return false;
  *out = static_cast<bool>(s);
  return true;
}

bool Reader::integer(const Setting& s, const std::string& p, int64_t lo, int64_t hi, int64_t* out) {
  const bool is_int = s.getType() == Setting::TypeInt || s.getType() == Setting::TypeInt64;
  if (!want(s, p, is_int, "an integer")) return false;
  long long v = s.getType() == Setting::TypeInt ? static_cast<long long>(static_cast<int>(s))
                                                : static_cast<long long>(s);
  /* libconfig 1.5 reads 0x80000000..0xffffffff into a 32-bit int, negative:
   * a hex literal means the bits written (an SPI 0xffffffff is one). */
  if (s.getType() == Setting::TypeInt && s.getFormat() == Setting::FormatHex && v < 0)
    v = static_cast<long long>(static_cast<uint32_t>(static_cast<int>(s)));
  if (v < lo || v > hi) {
    error(s, p, std::to_string(v) + " is out of range; use " + std::to_string(lo) + " to " + std::to_string(hi));
    return false;
  }
  *out = v;
  return true;
}

bool Reader::addr(const Setting& s, const std::string& p, Ipv4Addr* out) {
  std::string v;
  if (!str(s, p, &v)) return false;
  const auto a = Ipv4Addr::parse(v);
  if (!a) {
    error(s, p, quoted(s) + " is not an IPv4 address (dotted quad, e.g. 192.0.2.1)");
    return false;
  }
  const uint8_t top = static_cast<uint8_t>(a->host() >> 24);
  if (a->host() == 0 || a->host() == ~0u || top == 127 || top >= 224) {
    error(s, p, quoted(s) + " is not a unicast host address");
    return false;
  }
  *out = *a;
  return true;
}

bool Reader::prefix(const Setting& s, const std::string& p, Ipv4Prefix* out) {
  std::string v;
  if (!str(s, p, &v)) return false;
  const auto x = Ipv4Prefix::parse(v);
  if (!x) {
    const auto withhost = parse_ifaddr(v);
    if (withhost && withhost->subnet().addr != withhost->addr)
      error(s, p, quoted(s) + " has host bits set; the prefix is " + withhost->subnet().addr.str() +
                      "/" + std::to_string(withhost->len));
    else
      error(s, p, quoted(s) + " is not an IPv4 prefix (a.b.c.d/len, e.g. 10.0.0.0/8)");
    return false;
  }
  *out = *x;
  return true;
}

bool Reader::ifaddr(const Setting& s, const std::string& p, Ipv4IfAddr* out) {
  std::string v;
  if (!str(s, p, &v)) return false;
  const auto x = parse_ifaddr(v);
  if (!x) {
    error(s, p, quoted(s) + " is not an IPv4 prefix (the port's address and subnet length, e.g. 192.0.2.1/24)");
    return false;
  }
  const uint8_t top = static_cast<uint8_t>(x->addr.host() >> 24);
  if (x->addr.host() == 0 || top == 127 || top >= 224 || x->len == 0) {
    error(s, p, quoted(s) + " is not a unicast address on a subnet of length 1 to 32");
    return false;
  }
  const Ipv4Prefix net = x->subnet();
  const uint32_t bcast = net.addr.host() | (x->len >= 32 ? 0u : ~0u >> x->len);
  if (x->len <= 30 && (x->addr == net.addr || x->addr.host() == bcast)) {
    error(s, p, quoted(s) + " is the subnet's network or broadcast address; give the port's own address");
    return false;
  }
  *out = *x;
  return true;
}

bool Reader::mac(const Setting& s, const std::string& p, MacAddr* out) {
  std::string v;
  if (!str(s, p, &v)) return false;
  const auto m = parse_mac(v);
  if (!m) {
    error(s, p, quoted(s) + " is not a MAC address (aa:bb:cc:dd:ee:ff)");
    return false;
  }
  if (!mac_is_unicast(*m)) {
    error(s, p, quoted(s) + " is a multicast MAC address (its first byte is odd); use a unicast one");
    return false;
  }
  *out = *m;
  return true;
}

bool Reader::hex(const Setting& s, const std::string& p, std::vector<uint8_t>* out) {
  std::string v;
  if (!str(s, p, &v)) return false;
  auto h = parse_hex(v);
  if (!h) {
    error(s, p, "is not a hex string (an even number of digits 0-9a-f, optionally after 0x)");
    return false;
  }
  *out = std::move(*h);
  return true;
}

bool Reader::strings(const Setting& s, const std::string& p, std::vector<const Setting*>* elems) {
  if (!want(s, p, s.isArray() || s.isList(), "a list of strings [ \"...\", ... ]")) return false;
  bool ok = true;
  for (int i = 0; i < s.getLength(); ++i) {
    const Setting& e = s[i];
    if (e.getType() != Setting::TypeString) {
      error(e, index(p, static_cast<size_t>(i)), std::string("expected a string, got ") + type_name(e.getType()));
      ok = false;
      elems->push_back(nullptr);
      continue;
    }
    elems->push_back(&e);
  }
  return ok;
}

bool Reader::groups(const Setting& s, const std::string& p, std::vector<const Setting*>* elems) {
  if (!want(s, p, s.isList(), "a list of groups ( { ... }, ... )")) return false;
  for (int i = 0; i < s.getLength(); ++i) {
    const Setting& e = s[i];
    if (!e.isGroup()) {
      error(e, index(p, static_cast<size_t>(i)), std::string("expected a group { ... }, got ") + type_name(e.getType()));
      elems->push_back(nullptr);
      continue;
    }
    elems->push_back(&e);
  }
  return true;
}

}  // namespace mipvpn::cfg
