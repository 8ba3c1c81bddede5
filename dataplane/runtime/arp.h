/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ARP for IPv4 over Ethernet (RFC 826): parse a received frame and build
 * requests and replies. Works on byte spans; no DPDK.
 */
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>

#include "codec/endian.h"
#include "codec/ipv4_addr.h"
#include "codec/mac.h"
#include "runtime/eth.h"

namespace mipvpn {

inline constexpr uint16_t kArpHrdEther = 1;     /* ar$hrd: Ethernet (RFC 826) */
inline constexpr uint16_t kArpOpRequest = 1;    /* ares_op$REQUEST */
inline constexpr uint16_t kArpOpReply = 2;      /* ares_op$REPLY */
inline constexpr size_t kArpLen = 28;           /* IPv4 over Ethernet */
inline constexpr size_t kArpFrameLen = kEthHdrLen + kArpLen; /* 42 */
inline constexpr size_t kEthMinFrame = 60;      /* without FCS: we pad to it */

struct ArpPkt {
  uint16_t op = 0;
  MacAddr sha;   /* sender hardware address */
  Ipv4Addr spa;  /* sender protocol address */
  MacAddr tha;   /* target hardware address */
  Ipv4Addr tpa;  /* target protocol address */
};

namespace arp_detail {
inline MacAddr mac_at(const std::byte* p) noexcept {
  MacAddr m;
  for (int i = 0; i < 6; ++i) m.b[i] = std::to_integer<uint8_t>(p[i]);
  return m;
}
inline void put_mac(std::byte* p, const MacAddr& m) noexcept {
  for (int i = 0; i < 6; ++i) p[i] = std::byte{m.b[i]};
}
}  // namespace arp_detail

/* The ARP packet in an Ethernet frame (header included). False unless it
 * is Ethernet/IPv4 ARP (hrd 1, pro 0x0800, hln 6, pln 4) with a request
 * or reply opcode. Never reads outside the span. */
inline bool arp_parse(std::span<const std::byte> f, ArpPkt& out) noexcept {
  if (f.size() < kArpFrameLen || load_be16(f.data() + 12) != kEtherTypeArp) return false;
  const std::byte* a = f.data() + kEthHdrLen;
  if (load_be16(a) != kArpHrdEther || load_be16(a + 2) != kEtherTypeIpv4 ||
      a[4] != std::byte{6} || a[5] != std::byte{4})
    return false;
  out.op = load_be16(a + 6);
  if (out.op != kArpOpRequest && out.op != kArpOpReply) return false;
  out.sha = arp_detail::mac_at(a + 8);
  out.spa = Ipv4Addr(load_be32(a + 14));
  out.tha = arp_detail::mac_at(a + 18);
  out.tpa = Ipv4Addr(load_be32(a + 24));
  return true;
}

/* An Ethernet frame to eth_dst from eth_src carrying `a`, zero-padded to
 * 60 bytes. Returns its length, or 0 when `out` is shorter than 60. */
inline size_t arp_build(std::span<std::byte> out, const MacAddr& eth_dst, const MacAddr& eth_src,
                        const ArpPkt& a) noexcept {
  if (out.size() < kEthMinFrame) return 0;
  std::byte* p = out.data();
  std::memset(p, 0, kEthMinFrame);
  arp_detail::put_mac(p, eth_dst);
  arp_detail::put_mac(p + 6, eth_src);
  store_be16(p + 12, kEtherTypeArp);
  std::byte* q = p + kEthHdrLen;
  store_be16(q, kArpHrdEther);
  store_be16(q + 2, kEtherTypeIpv4);
  q[4] = std::byte{6};
  q[5] = std::byte{4};
  store_be16(q + 6, a.op);
  arp_detail::put_mac(q + 8, a.sha);
  store_be32(q + 14, a.spa.host());
  arp_detail::put_mac(q + 18, a.tha);
  store_be32(q + 24, a.tpa.host());
  return kEthMinFrame;
}

}  // namespace mipvpn
