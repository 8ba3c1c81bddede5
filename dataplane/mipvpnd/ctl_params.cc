/* SPDX-License-Identifier: BSD-3-Clause */
#include "mipvpnd/ctl_params.h"

namespace mipvpn {

namespace {

bool fail(std::string* err, std::string msg) {
  if (err) *err = std::move(msg);
  return false;
}

/* Appends rather than operator+ on a temporary: g++ 12 -O3 warns falsely
 * (-Wrestrict) on "x" + std::string(...). */
std::string q(std::string_view w) {
  std::string r;
  r.reserve(w.size() + 2);
  r.push_back('\'');
  r.append(w);
  r.push_back('\'');
  return r;
}

bool parse_dir(std::string_view w, bool& inbound, std::string* err) {
  if (w == "in") inbound = true;
  else if (w == "out") inbound = false;
  else return fail(err, "direction must be 'in' or 'out', not " + q(w));
  return true;
}

bool parse_spi(std::string_view w, uint32_t& spi, std::string* err) {
  if (!parse_u32_word(w, spi)) return fail(err, "SPI must be a 32-bit number (decimal or 0x-hex), not " + q(w));
  if (spi < 256) return fail(err, "SPI " + std::string(w) + " is reserved (RFC 4303 2.1: 0..255)");
  return true;
}

bool parse_ha(std::string_view w, HaSel& ha, std::string* err) {
  if (w == "xha") ha = HaSel::kXha;
  else if (w == "iha") ha = HaSel::kIha;
  else return fail(err, "home agent must be 'xha' or 'iha', not " + q(w));
  return true;
}

bool parse_addr(std::string_view w, const char* what, Ipv4Addr& a, std::string* err) {
  auto v = Ipv4Addr::parse(w);
  if (!v) return fail(err, std::string(what) + " must be an IPv4 address, not " + q(w));
  a = *v;
  return true;
}

bool parse_port(std::string_view w, const char* what, uint16_t& p, std::string* err) {
  uint32_t v = 0;
  if (!parse_u32_word(w, v) || v == 0 || v > 65535)
    return fail(err, std::string(what) + " must be a UDP port 1..65535, not " + q(w));
  p = static_cast<uint16_t>(v);
  return true;
}

}  // namespace

std::vector<std::string_view> ctl_words(std::string_view s) {
  std::vector<std::string_view> v;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && (s[i] == ' ' || s[i] == ',' || s[i] == '\t')) ++i;
    const size_t b = i;
    while (i < s.size() && s[i] != ' ' && s[i] != ',' && s[i] != '\t') ++i;
    if (i > b) v.push_back(s.substr(b, i - b));
  }
  return v;
}

bool parse_u32_word(std::string_view w, uint32_t& out) noexcept {
  uint64_t v = 0;
  if (w.size() > 2 && w[0] == '0' && (w[1] == 'x' || w[1] == 'X')) {
    w.remove_prefix(2);
    if (w.empty() || w.size() > 8) return false;
    for (char c : w) {
      int d;
      if (c >= '0' && c <= '9') d = c - '0';
      else if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
      else if (c >= 'A' && c <= 'F') d = c - 'A' + 10;
      else return false;
      v = v * 16 + static_cast<uint64_t>(d);
    }
  } else {
    if (w.empty() || w.size() > 10) return false;
    for (char c : w) {
      if (c < '0' || c > '9') return false;
      v = v * 10 + static_cast<uint64_t>(c - '0');
    }
    if (v > 0xffffffffu) return false;
  }
  out = static_cast<uint32_t>(v);
  return true;
}

bool parse_hex_bytes(std::string_view w, std::vector<uint8_t>& out) {
  if (w.size() > 2 && w[0] == '0' && (w[1] == 'x' || w[1] == 'X')) w.remove_prefix(2);
  if (w.empty() || w.size() % 2 != 0 || w.size() > 256) return false;
  auto nib = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::vector<uint8_t> v;
  for (size_t i = 0; i < w.size(); i += 2) {
    const int h = nib(w[i]), l = nib(w[i + 1]);
    if (h < 0 || l < 0) return false;
    v.push_back(static_cast<uint8_t>(h << 4 | l));
  }
  out = std::move(v);
  return true;
}

bool parse_sa_add(std::string_view params, SaAddParams& out, std::string* err) {
  const auto w = ctl_words(params);
  if (w.size() < 7) return fail(err, "sa add wants SPI in|out SUITE KEY SRC DST SELECTOR [options]");
  SaAddParams p;
  if (!parse_spi(w[0], p.spi, err) || !parse_dir(w[1], p.inbound, err)) return false;
  p.suite = std::string(w[2]);
  if (!parse_hex_bytes(w[3], p.key)) return fail(err, "KEY must be hex bytes, not " + q(w[3]));
  if (!parse_addr(w[4], "SRC", p.src, err) || !parse_addr(w[5], "DST", p.dst, err)) return false;
  auto sel = Ipv4Prefix::parse(w[6]);
  if (!sel) return fail(err, "SELECTOR must be PREFIX/LEN, not " + q(w[6]));
  p.selector = *sel;
  for (size_t i = 7; i < w.size(); ++i) {
    const auto need = [&](size_t n) { return i + n < w.size(); };
    if (w[i] == "esn") {
      p.esn = true;
    } else if (w[i] == "auth-key" && need(1)) {
      if (!parse_hex_bytes(w[++i], p.auth_key)) return fail(err, "auth-key must be hex bytes, not " + q(w[i]));
    } else if (w[i] == "window" && need(1)) {
      if (!parse_u32_word(w[++i], p.window) || p.window > 4096)
        return fail(err, "window must be a number 0..4096, not " + q(w[i]));
    } else if (w[i] == "natt" && need(2)) {
      if (!parse_port(w[i + 1], "natt SPORT", p.natt_sport, err) ||
          !parse_port(w[i + 2], "natt DPORT", p.natt_dport, err))
        return false;
      i += 2;
    } else {
      return fail(err, "unknown or incomplete sa option " + q(w[i]) +
                           " (auth-key HEX, esn, window N, natt SPORT DPORT)");
    }
  }
  out = std::move(p);
  return true;
}

bool parse_sa_del(std::string_view params, SaDelParams& out, std::string* err) {
  const auto w = ctl_words(params);
  if (w.size() != 2) return fail(err, "sa del wants SPI in|out");
  SaDelParams p;
  if (!parse_spi(w[0], p.spi, err) || !parse_dir(w[1], p.inbound, err)) return false;
  out = p;
  return true;
}

bool parse_binding_add(std::string_view params, BindingAddParams& out, std::string* err) {
  const auto w = ctl_words(params);
  if (w.size() < 3) return fail(err, "binding add wants xha|iha HOME COA [udp PEER PORT] [lifetime S]");
  BindingAddParams p;
  if (!parse_ha(w[0], p.ha, err) || !parse_addr(w[1], "HOME", p.home, err) ||
      !parse_addr(w[2], "COA", p.coa, err))
    return false;
  if (p.home.host() == 0) return fail(err, "HOME may not be 0.0.0.0");
  if (p.coa.host() == 0 || p.coa == p.home) return fail(err, "COA may be neither 0.0.0.0 nor HOME");
  for (size_t i = 3; i < w.size(); ++i) {
    if (w[i] == "udp" && i + 2 < w.size()) {
      p.udp = true;
      if (!parse_addr(w[i + 1], "udp PEER", p.peer, err) || !parse_port(w[i + 2], "udp PORT", p.port, err))
        return false;
      i += 2;
    } else if (w[i] == "lifetime" && i + 1 < w.size()) {
      if (!parse_u32_word(w[++i], p.lifetime_s) || p.lifetime_s > 65534)
        return fail(err, "lifetime must be seconds 0..65534 (0: infinite), not " + q(w[i]));
    } else {
      return fail(err, "unknown or incomplete binding option " + q(w[i]) + " (udp PEER PORT, lifetime S)");
    }
  }
  out = p;
  return true;
}

bool parse_binding_del(std::string_view params, BindingDelParams& out, std::string* err) {
  const auto w = ctl_words(params);
  if (w.size() != 2) return fail(err, "binding del wants xha|iha HOME");
  BindingDelParams p;
  if (!parse_ha(w[0], p.ha, err) || !parse_addr(w[1], "HOME", p.home, err)) return false;
  out = p;
  return true;
}

bool parse_bindings(std::string_view params, BindingsParams& out, std::string* err) {
  const auto w = ctl_words(params);
  if (w.size() > 2) return fail(err, "bindings wants [xha|iha [FROM]]");
  BindingsParams p;
  if (!w.empty()) {
    p.both = false;
    if (!parse_ha(w[0], p.ha, err)) return false;
  }
  if (w.size() == 2 && !parse_u32_word(w[1], p.from))
    return fail(err, "FROM must be a number of bindings to skip, not " + q(w[1]));
  out = p;
  return true;
}

bool parse_result_id(std::string_view params, uint64_t& out, std::string* err) {
  const auto w = ctl_words(params);
  uint32_t v = 0;
  if (w.size() != 1 || !parse_u32_word(w[0], v) || v == 0) return fail(err, "result wants a request id");
  out = v;
  return true;
}

}  // namespace mipvpn
