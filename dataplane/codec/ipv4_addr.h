/* SPDX-License-Identifier: BSD-3-Clause */
/* IPv4 addresses and prefixes: strong types over host-order values. */
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace mipvpn {

class Ipv4Addr {
 public:
  constexpr Ipv4Addr() = default;
  constexpr explicit Ipv4Addr(uint32_t host_order) : v_(host_order) {}
  constexpr Ipv4Addr(uint8_t a, uint8_t b, uint8_t c, uint8_t d)
      : v_((uint32_t{a} << 24) | (uint32_t{b} << 16) | (uint32_t{c} << 8) | d) {}
  constexpr uint32_t host() const noexcept { return v_; }
  friend constexpr auto operator<=>(Ipv4Addr, Ipv4Addr) = default;

  /* Dotted quad; nullopt on anything else (no octal, no short forms). */
  static std::optional<Ipv4Addr> parse(std::string_view s);
  std::string str() const;

 private:
  uint32_t v_ = 0;
};

/* An address prefix "a.b.c.d/len" (trusted networks, routes, SPD selectors). */
struct Ipv4Prefix {
  Ipv4Addr addr;
  uint8_t len = 32;  /* 0..32 */

  static constexpr uint32_t mask(uint8_t len) noexcept {
    return len == 0 ? 0u : (len >= 32 ? ~0u : ~0u << (32 - len));
  }
  constexpr bool contains(Ipv4Addr a) const noexcept {
    return ((a.host() ^ addr.host()) & mask(len)) == 0;
  }
  /* "10.0.0.0/8" or a bare address (/32); host bits must be zero. */
  static std::optional<Ipv4Prefix> parse(std::string_view s);
};

}  // namespace mipvpn
