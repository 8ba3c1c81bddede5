/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * UDP header (RFC 768) and its checksum over the IPv4 pseudo-header
 * (RFC 768 "Fields", RFC 1071 for the sum). RFC 1122 section 4.1.3.4: a
 * zero checksum on IPv4 means "none"; a non-zero one that does not verify
 * means the datagram is discarded.
 * The ports this product serves: Mobile IP registration and RFC 3519
 * tunnelling on 434, IKE on 500, RFC 3948 ESP-in-UDP on 4500.
 *
 * No allocation, no exceptions; nothing is read or written outside the
 * spans given.
 */
#pragma once

#include <cstdint>

#include "codec/endian.h"
#include "codec/error.h"
#include "codec/ipv4.h"

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

/* What a parse learned about a UDP header; host order. */
struct UdpInfo {
  uint16_t sport = 0;
  uint16_t dport = 0;
  uint16_t len = 0;        /* the length field: header + payload, <= IP payload */
  bool has_csum = false;   /* the checksum field was non-zero */
};

enum class UdpCheck : uint8_t {
  kFull,        /* verify a non-zero checksum */
  kNoChecksum,  /* the NIC verified it, or the caller does not care */
};

/*
 * Parse the UDP header at the start of ip_payload, which must be exactly
 * the IPv4 payload (bytes hdr_len..total_len of the datagram described by
 * ip); use ipv4_payload() to cut it. Bytes after the UDP length inside
 * the IP payload are allowed (RFC 768 does not forbid them) and are not
 * part of the datagram. Errors: kTruncated (fewer than 8 bytes),
 * kBadLength (length field < 8 or larger than the IP payload),
 * kBadChecksum (non-zero and wrong).
 */
Parsed<UdpInfo> udp_parse(cbytes ip_payload, const Ipv4Info& ip,
                          UdpCheck check = UdpCheck::kFull) noexcept;

/* The IPv4 payload of a datagram ipv4_parse() accepted: [hdr_len, total_len). */
inline cbytes ipv4_payload(cbytes pkt, const Ipv4Info& ip) noexcept {
  return pkt.subspan(ip.hdr_len, static_cast<size_t>(ip.total_len - ip.hdr_len));
}
inline bytes ipv4_payload(bytes pkt, const Ipv4Info& ip) noexcept {
  return pkt.subspan(ip.hdr_len, static_cast<size_t>(ip.total_len - ip.hdr_len));
}

/*
 * RFC 768 pseudo-header (source, destination, zero, protocol 17, UDP
 * length) as a partial sum for csum_partial()/csum_fold().
 */
constexpr uint32_t udp_pseudo_sum(Ipv4Addr src, Ipv4Addr dst, uint16_t udp_len) noexcept {
  return (src.host() >> 16) + (src.host() & 0xffff) + (dst.host() >> 16) +
         (dst.host() & 0xffff) + kIpProtoUdp + udp_len;
}

/*
 * The checksum to store for the datagram udp (header + payload, exactly
 * udp length bytes, the checksum field read as zero whatever it holds).
 * A computed 0 is returned as 0xffff (RFC 768: zero means "none").
 */
uint16_t udp_checksum(cbytes udp, Ipv4Addr src, Ipv4Addr dst) noexcept;

/*
 * Write an 8-byte header at out (out.size() >= 8). udp_len is header +
 * payload. The checksum field is set to zero ("none", RFC 768 on IPv4);
 * call udp_fill_checksum() once the payload is in place to add one.
 */
void udp_build(bytes out, uint16_t sport, uint16_t dport, uint16_t udp_len) noexcept;

/* Compute and store the checksum of udp (exactly udp length bytes). */
void udp_fill_checksum(bytes udp, Ipv4Addr src, Ipv4Addr dst) noexcept;

}  // namespace mipvpn
