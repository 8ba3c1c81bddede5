/* SPDX-License-Identifier: BSD-3-Clause */
/* Ethernet MAC addresses (IEEE 802): six octets in wire order. No DPDK. */
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace mipvpn {

struct MacAddr {
  std::array<uint8_t, 6> b{};

  friend constexpr bool operator==(const MacAddr&, const MacAddr&) = default;
  constexpr bool is_broadcast() const noexcept {
    return (b[0] & b[1] & b[2] & b[3] & b[4] & b[5]) == 0xff;
  }
  constexpr bool is_multicast() const noexcept { return (b[0] & 1) != 0; }

  /* "aa:bb:cc:dd:ee:ff" (hex, ':' separated, exactly six octets). */
  static std::optional<MacAddr> parse(std::string_view s);
  std::string str() const;
};

inline constexpr MacAddr kMacBroadcast{{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}};

}  // namespace mipvpn
