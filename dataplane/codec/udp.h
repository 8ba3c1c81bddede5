/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * UDP header (RFC 768) and its checksum over the IPv4 pseudo-header.
 * The ports this product serves: Mobile IP registration and RFC 3519
 * tunnelling on 434, IKE on 500, RFC 3948 ESP-in-UDP on 4500.
 */
#pragma once

#include <cstdint>

#include "codec/endian.h"

namespace mipvpn {

inline constexpr uint16_t kUdpHdrLen = 8;
inline constexpr uint16_t kPortMip = 434;    /* RFC 5944 / RFC 3519 */
inline constexpr uint16_t kPortIke = 500;    /* RFC 7296 */
inline constexpr uint16_t kPortNatt = 4500;  /* RFC 3948 */

struct UdpHdr {
  be16 sport;
  be16 dport;
  be16 len;
  be16 csum;
};
static_assert(sizeof(UdpHdr) == kUdpHdrLen);

}  // namespace mipvpn
