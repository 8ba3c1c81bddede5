/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * IPv4 header codec (RFC 791), the Internet checksum (RFC 1071) and its
 * incremental update (RFC 1624).
 *
 * Everything here works on byte spans, allocates nothing and never reads
 * outside the span it is given.
 */
#pragma once

#include <cstdint>

#include "codec/endian.h"
#include "codec/error.h"
#include "codec/ipv4_addr.h"

namespace mipvpn {

inline constexpr uint8_t kIpProtoIcmp = 1;
inline constexpr uint8_t kIpProtoIpip = 4;   /* RFC 2003 */
inline constexpr uint8_t kIpProtoUdp = 17;
inline constexpr uint8_t kIpProtoEsp = 50;   /* RFC 4303 */

inline constexpr uint16_t kIpv4HdrLen = 20;
inline constexpr uint16_t kIpv4FlagDf = 0x4000;
inline constexpr uint16_t kIpv4FlagMf = 0x2000;
inline constexpr uint16_t kIpv4OffMask = 0x1fff;

/* RFC 791 section 3.1, without options. */
struct Ipv4Hdr {
  uint8_t ver_ihl;
  uint8_t tos;
  be16 total_len;
  be16 id;
  be16 frag_off;
  uint8_t ttl;
  uint8_t proto;
  be16 csum;
  be32 src;
  be32 dst;
};
static_assert(sizeof(Ipv4Hdr) == kIpv4HdrLen);

/* What a parse learned about a header; host order throughout. */
struct Ipv4Info {
  uint16_t hdr_len = 0;    /* IHL * 4 */
  uint16_t total_len = 0;  /* from the header; <= bytes present */
  uint16_t id = 0;
  uint8_t tos = 0;
  uint8_t ttl = 0;
  uint8_t proto = 0;
  bool df = false;
  bool fragment = false;   /* MF set or offset non-zero */
  Ipv4Addr src;
  Ipv4Addr dst;
};

enum class Ipv4Check : uint8_t {
  kFull,        /* verify the header checksum too */
  kNoChecksum,  /* the NIC verified it (RX offload) */
};

/*
 * Parse and validate the header at the start of pkt. Bytes after total_len
 * (Ethernet padding) are allowed and ignored. Errors: kTruncated,
 * kBadVersion, kBadIhl, kBadLength, kBadChecksum.
 */
Parsed<Ipv4Info> ipv4_parse(cbytes pkt, Ipv4Check check = Ipv4Check::kFull) noexcept;

/* Fields for a new option-less header. */
struct Ipv4Build {
  Ipv4Addr src;
  Ipv4Addr dst;
  uint16_t total_len = 0;
  uint16_t id = 0;
  uint8_t proto = 0;
  uint8_t ttl = 64;
  uint8_t tos = 0;
  bool df = false;
};

/* The 20 bytes of b at out, checksum field 0 (ipv4_build sums it;
 * stages/ipv4_fast.h has an inline sum for the hot path). */
inline void ipv4_fill(std::byte* out, const Ipv4Build& b) noexcept {
  auto* h = header_at<Ipv4Hdr>(out);
  h->ver_ihl = 0x45;
  h->tos = b.tos;
  h->total_len = be16::from_host(b.total_len);
  h->id = be16::from_host(b.id);
  h->frag_off = be16::from_host(b.df ? kIpv4FlagDf : 0);
  h->ttl = b.ttl;
  h->proto = b.proto;
  h->csum = be16{};
  h->src = be32::from_host(b.src.host());
  h->dst = be32::from_host(b.dst.host());
}

/* Write a 20-byte header with its checksum at out (out.size() >= 20). */
void ipv4_build(bytes out, const Ipv4Build& b) noexcept;

/* RFC 1071: one's complement sum of 16-bit words, not yet folded/inverted. */
uint32_t csum_partial(cbytes data, uint32_t sum = 0) noexcept;
/* Fold a partial sum to 16 bits and complement it. */
constexpr uint16_t csum_fold(uint32_t sum) noexcept {
  sum = (sum & 0xffff) + (sum >> 16);
  sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(~sum & 0xffff);
}
/* The checksum of data (the value to store, host order). */
inline uint16_t ip_checksum(cbytes data) noexcept { return csum_fold(csum_partial(data)); }

/*
 * RFC 1624 equation 3: HC' = ~(~HC + ~m + m'), for one 16-bit field that
 * changed from old_word to new_word. Host-order values in and out.
 */
constexpr uint16_t csum_update16(uint16_t hc, uint16_t old_word, uint16_t new_word) noexcept {
  uint32_t sum = static_cast<uint16_t>(~hc) + static_cast<uint16_t>(~old_word) + uint32_t{new_word};
  sum = (sum & 0xffff) + (sum >> 16);
  sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(~sum);
}

/*
 * Decrement the TTL of a header that has already been validated, updating
 * the checksum incrementally. Returns kTtlExpired (and leaves the header
 * untouched) when the TTL is 0 or 1: a router must then send ICMP time
 * exceeded instead of forwarding (RFC 1812 section 5.3.1).
 */
CodecError ipv4_ttl_decrement(Ipv4Hdr* h) noexcept;

/* Set the TOS byte, updating the checksum incrementally. */
void ipv4_set_tos(Ipv4Hdr* h, uint8_t tos) noexcept;

}  // namespace mipvpn
