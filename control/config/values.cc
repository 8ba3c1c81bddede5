/* SPDX-License-Identifier: BSD-3-Clause */
#include "config/values.h"

#include <algorithm>
#include <charconv>

namespace mipvpn {

Ipv4Prefix Ipv4IfAddr::subnet() const noexcept {
  const uint32_t m = len == 0 ? 0 : (len >= 32 ? ~0u : ~0u << (32 - len));
  Ipv4Prefix p;
  p.addr = Ipv4Addr(addr.host() & m);
  p.len = len;
  return p;
}

EspSaConfig EspSaSpec::esp_config() const noexcept {
  EspSaConfig c;
  c.spi = spi;
  c.dir = dir;
  c.suite = suite;
  c.cipher_key = std::span<const uint8_t>(cipher_key);
  c.auth_key = std::span<const uint8_t>(auth_key);
  c.tun_src = src;
  c.tun_dst = dst;
  c.esn = esn;
  c.replay_window = replay_window;
  c.natt_sport = natt_sport;
  c.natt_dport = natt_dport;
  return c;
}

std::string format_error(const ConfigError& e) {
  if (e.line <= 0) return e.file + ": " + e.message;
  return e.file + ":" + std::to_string(e.line) + ": " + e.message;
}

}  // namespace mipvpn

namespace mipvpn::cfg {
namespace {

int hex_digit(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool all_of(std::string_view s, bool (*ok)(char)) {
  return !s.empty() && std::all_of(s.begin(), s.end(), ok);
}
bool is_hex(char c) { return hex_digit(c) >= 0; }
bool is_dev_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}
bool is_arg_char(char c) { return c > ' ' && c != 127; }

/* "BB:DD.F" with hex bus and device, function 0..7. */
bool is_bdf(std::string_view s) {
  return s.size() == 7 && is_hex(s[0]) && is_hex(s[1]) && s[2] == ':' && is_hex(s[3]) &&
         is_hex(s[4]) && s[5] == '.' && s[6] >= '0' && s[6] <= '7';
}

}  // namespace

std::optional<Ipv4IfAddr> parse_ifaddr(std::string_view s) {
  const auto slash = s.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  const auto a = Ipv4Addr::parse(s.substr(0, slash));
  if (!a) return std::nullopt;
  const std::string_view l = s.substr(slash + 1);
  unsigned v = 0;
  auto [p, ec] = std::from_chars(l.data(), l.data() + l.size(), v);
  if (l.empty() || ec != std::errc{} || p != l.data() + l.size() || v > 32) return std::nullopt;
  Ipv4IfAddr r;
  r.addr = *a;
  r.len = static_cast<uint8_t>(v);
  return r;
}

std::optional<MacAddr> parse_mac(std::string_view s) {
  if (s.size() != 17) return std::nullopt;
  MacAddr m{};
  for (size_t i = 0; i < 6; ++i) {
    const int hi = hex_digit(s[i * 3]);
    const int lo = hex_digit(s[i * 3 + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    if (i < 5 && s[i * 3 + 2] != ':') return std::nullopt;
    m.b[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  return m;
}

std::optional<std::vector<uint8_t>> parse_hex(std::string_view s) {
  if (s.size() >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) s.remove_prefix(2);
  if (s.size() % 2 != 0) return std::nullopt;
  std::vector<uint8_t> out;
  out.reserve(s.size() / 2);
  for (size_t i = 0; i < s.size(); i += 2) {
    const int hi = hex_digit(s[i]);
    const int lo = hex_digit(s[i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out.push_back(static_cast<uint8_t>(hi << 4 | lo));
  }
  return out;
}

std::string_view device_name(std::string_view s) noexcept { return s.substr(0, s.find(',')); }

bool check_device(std::string_view s, std::string* why) {
  const std::string_view name = device_name(s);
  /* PCI: [DDDD:]BB:DD.F, as EAL's -a takes it. */
  if (name.size() == 12 && name[4] == ':' && all_of(name.substr(0, 4), is_hex) &&
      is_bdf(name.substr(5)))
    return true;
  if (is_bdf(name)) return true;
  if (name.substr(0, 4) == "net_" || name.substr(0, 4) == "eth_") {
    if (name.size() == 4 || !all_of(name, is_dev_char)) {
      *why = "is not a virtual device name (letters, digits and '_' after 'net_', e.g. net_ring0)";
      return false;
    }
    if (name.size() == s.size()) return true;
    const std::string_view args = s.substr(name.size() + 1);
    if (!all_of(args, is_arg_char)) {
      *why = "has empty arguments or spaces after the device name (write net_pcap0,rx_pcap=in.pcap)";
      return false;
    }
    return true;
  }
  *why = "is neither a PCI address (0000:03:00.0) nor a DPDK virtual device (net_ring0, net_pcap0,...)";
  return false;
}

namespace {

bool is_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '*' ||
         c == '-';
}

}  // namespace

std::vector<WideLiteral> find_wide_int_literals(std::string_view t) {
  std::vector<WideLiteral> out;
  int line = 1;
  size_t i = 0;
  const size_t n = t.size();
  auto skip_to = [&](size_t end) {
    for (; i < end && i < n; ++i) line += t[i] == '\n';
  };
  while (i < n) {
    const char c = t[i];
    if (c == '\n') {
      ++line;
      ++i;
    } else if (c == '"') {  /* a string, with backslash escapes */
      size_t j = i + 1;
      while (j < n && t[j] != '"') j += (t[j] == '\\') ? 2 : 1;
      skip_to(j + 1);
    } else if (c == '#' || (c == '/' && i + 1 < n && t[i + 1] == '/')) {
      skip_to(t.find('\n', i) == std::string_view::npos ? n : t.find('\n', i));
    } else if (c == '/' && i + 1 < n && t[i + 1] == '*') {
      const size_t e = t.find("*/", i + 2);
      skip_to(e == std::string_view::npos ? n : e + 2);
    } else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == '*') {
      while (i < n && is_name_char(t[i])) ++i;  /* a setting name */
    } else if ((c >= '0' && c <= '9') ||
               ((c == '-' || c == '+') && i + 1 < n && t[i + 1] >= '0' && t[i + 1] <= '9')) {
      const size_t start = i;
      const bool neg = c == '-';
      if (c == '-' || c == '+') ++i;
      const bool hex = i + 1 < n && t[i] == '0' && (t[i + 1] == 'x' || t[i + 1] == 'X');
      if (hex) i += 2;
      uint64_t v = 0;
      bool over = false;
      for (; i < n && (hex ? hex_digit(t[i]) >= 0 : (t[i] >= '0' && t[i] <= '9')); ++i) {
        const uint64_t d = static_cast<uint64_t>(hex ? hex_digit(t[i]) : t[i] - '0');
        if (v > (~0ull - d) / (hex ? 16 : 10)) over = true;
        v = v * (hex ? 16 : 10) + d;
      }
      if (!hex && i < n && (t[i] == '.' || t[i] == 'e' || t[i] == 'E')) {
        while (i < n && (is_name_char(t[i]) || t[i] == '.' || t[i] == '+')) ++i;  /* a float */
        continue;
      }
      if (i < n && t[i] == 'L') {  /* 64-bit: read as written */
        while (i < n && t[i] == 'L') ++i;
        continue;
      }
      const bool wide = over || (hex ? v > 0xffffffffull : v > (neg ? 0x80000000ull : 0x7fffffffull));
      if (wide) out.push_back({line, std::string(t.substr(start, i - start))});
    } else {
      ++i;
    }
  }
  return out;
}

std::string_view closest_name(std::string_view name, const std::vector<std::string_view>& candidates) {
  std::string_view best;
  size_t best_d = 3;
  std::vector<size_t> row;
  for (std::string_view c : candidates) {
    /* Levenshtein distance, one row at a time. */
    row.resize(c.size() + 1);
    for (size_t j = 0; j <= c.size(); ++j) row[j] = j;
    for (size_t i = 1; i <= name.size(); ++i) {
      size_t diag = row[0];
      row[0] = i;
      for (size_t j = 1; j <= c.size(); ++j) {
        const size_t up = row[j];
        row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (name[i - 1] == c[j - 1] ? 0 : 1)});
        diag = up;
      }
    }
    if (row[c.size()] < best_d) {
      best_d = row[c.size()];
      best = c;
    }
  }
  return best;
}

}  // namespace mipvpn::cfg
