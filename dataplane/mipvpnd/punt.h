/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What the control thread does with a punted packet, as pure functions
 * over byte spans (no DPDK): answer ARP for our addresses (RFC 826), and
 * pick apart / frame the UDP datagrams of Mobile IP registration (RFC 5944
 * 3.3 and 3.4 on port 434).
 */
#pragma once

#include <cstdint>
#include <span>

#include "codec/ipv4_addr.h"
#include "codec/mac.h"

namespace mipvpn {

inline constexpr uint16_t kMipPort = 434;       /* RFC 5944 3.3 */
inline constexpr size_t kArpFrameLen = 42;      /* Ethernet 14 + ARP for IPv4 28 */

/* An ARP packet for IPv4 over Ethernet, as received (RFC 826). */
struct ArpInfo {
  uint16_t op = 0;            /* 1 request, 2 reply */
  MacAddr sender_mac;
  Ipv4Addr sender_ip;
  Ipv4Addr target_ip;
};

/* The ARP packet in an Ethernet frame; false unless it is IPv4 over Ethernet. */
bool arp_parse(std::span<const std::byte> frame, ArpInfo& out) noexcept;

/*
 * The reply to request `rq`, from `our_mac` for `our_ip`, into out (at least
 * kArpFrameLen bytes, padded to 60 by the caller when the port needs it).
 * Returns the frame length.
 */
size_t arp_build_reply(const ArpInfo& rq, const MacAddr& our_mac, Ipv4Addr our_ip,
                       std::span<std::byte> out) noexcept;

/* A registration datagram: IPv4 / UDP to port 434, checksums verified. */
struct MipDatagram {
  Ipv4Addr src, dst;
  uint16_t sport = 0;
  std::span<const std::byte> payload;
};
bool mip_datagram_parse(std::span<const std::byte> ip, MipDatagram& out) noexcept;

/*
 * Frame a reply: IPv4 (src, dst, TTL 64, DF clear) / UDP (434 -> dport,
 * checksum) / payload, into out. Returns the datagram length, 0 if out is
 * too small.
 */
size_t mip_reply_frame(Ipv4Addr src, Ipv4Addr dst, uint16_t dport, uint16_t ip_id,
                       std::span<const std::byte> payload, std::span<std::byte> out) noexcept;

}  // namespace mipvpn
