/* SPDX-License-Identifier: BSD-3-Clause */
/* IPv4 addresses: a strong type over a host-order value. */
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

}  // namespace mipvpn
