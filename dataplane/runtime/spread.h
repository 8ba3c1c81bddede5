/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Software receive-side scaling: which worker gets a packet that arrived on
 * a port with one RX queue. The hash keeps a flow together and every ESP
 * packet of one SPI on one worker (its anti-replay window and sequence
 * state live there, RFC 4303 3.4.3):
 *   - ESP (IP protocol 50, RFC 4303 2.1): the SPI;
 *   - UDP to or from port 4500 carrying ESP (RFC 3948 2.1): the SPI;
 *   - everything else: the IPv4 source and destination pair.
 * Input starts at the IPv4 header; bad or short headers hash by what is
 * there (the stages will drop them). No DPDK.
 */
#pragma once

#include <cstdint>

#include "codec/endian.h"
#include "codec/hash.h"
#include "codec/pkt.h"

namespace mipvpn {

inline uint32_t spread_mix(uint32_t x) noexcept { return fmix32(x); }

inline uint32_t spread_hash(const PktView& pkt) noexcept {
  const std::byte* p = pkt.data();
  const uint32_t len = pkt.data_len;
  if (len < 20) return 0;
  const uint32_t ihl = (std::to_integer<uint32_t>(p[0]) & 0x0f) * 4;
  const uint8_t proto = std::to_integer<uint8_t>(p[9]);
  const bool first_frag = (load_be16(p + 6) & 0x1fff) == 0;
  if (ihl >= 20 && first_frag) {
    if (proto == 50 && len >= ihl + 4) return spread_mix(load_be32(p + ihl) ^ 0x45535000u);
    if (proto == 17 && len >= ihl + 8 + 4) {
      const uint16_t sport = load_be16(p + ihl), dport = load_be16(p + ihl + 2);
      const uint32_t spi = load_be32(p + ihl + 8);
      /* RFC 3948 2.2: a zero SPI is the non-ESP (IKE) marker; 1..255 reserved. */
      if ((sport == 4500 || dport == 4500) && spi >= 256)
        return spread_mix(spi ^ 0x45535000u);
    }
  }
  return spread_mix(load_be32(p + 12) * 31u + load_be32(p + 16));
}

/* Worker index in [0, n_workers). */
inline uint32_t spread_worker(const PktView& pkt, uint32_t n_workers) noexcept {
  return static_cast<uint32_t>((uint64_t{spread_hash(pkt)} * n_workers) >> 32);
}

}  // namespace mipvpn
