/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Mobile IP UDP tunnelling through NATs, RFC 3519:
 *   section 3.3  the MIP Tunnel Data message header (type 4, next header,
 *                reserved: set to 0 on sending, ignored on reception), and
 *                the receiver's duty to drop a next header other than the
 *                tunnelling mode of the binding;
 *   section 3.1.4 the encapsulation values 4 (IP in IP), 55 (minimal
 *                encapsulation, RFC 2004) and 47 (GRE);
 *   section 4    the ports: tunnelled data goes to port 434 at the home
 *                agent, and from port 434 back to the source port the
 *                registration request came from (the NAT's mapping), so a
 *                receiver sees 434 as one of the two ports.
 * The outer IPv4 header follows the RFC 2003 3.1 rules (ipip.h): TOS
 * copied, DF copied or forced, ID and TTL from the caller.
 * UDP checksum: RFC 768 allows zero ("none") on IPv4 and the inner
 * datagram carries its own checksums, so we send zero by default (like
 * RFC 3948 2.1 does for ESP); a non-zero checksum received is verified
 * (RFC 1122 4.1.3.4).
 * Mobile IP message types on port 434 (RFC 5944 3.3, 3.4): 1 Registration
 * Request, 3 Registration Reply; RFC 3519 3.3 adds 4, tunnel data.
 *
 * Overhead: 20 (IP) + 8 (UDP) + 4 (tunnel header) = 32 bytes per packet.
 * RFC 5265 5.2 counts 12 bytes per Mobile IP layer (UDP + tunnel header
 * on top of the IP-in-IP 20): kMipUdpOverhead - kIpipOverhead.
 *
 * Left to the caller (needs state): checking that the next header matches
 * the binding's negotiated encapsulation (we forward only 4, so anything
 * else is kBadNextHeader here), that the outer source address and port
 * match the binding (RFC 3519 4: the HA learns the NAT's address and port
 * from the registration request), keepalive timing (the UDP Tunnel Reply
 * extension, section 3.2), reassembly, and the inner-TTL/ICMP rules listed in ipip.h.
 */
#pragma once

#include <cstdint>

#include "codec/endian.h"
#include "codec/error.h"
#include "codec/ipip.h"
#include "codec/ipv4.h"
#include "codec/pkt.h"
#include "codec/udp.h"

namespace mipvpn {

/* RFC 5944 / RFC 3519 3.3: the first byte of every message on port 434. */
inline constexpr uint8_t kMipTypeRegRequest = 1;
inline constexpr uint8_t kMipTypeRegReply = 3;
inline constexpr uint8_t kMipTypeTunnelData = 4;

/* RFC 3519 3.3 next header / 3.1.4 encapsulation values (IP protocol numbers). */
inline constexpr uint8_t kMipNextIpv4 = 4;      /* IP in IP, RFC 2003: forwarded */
inline constexpr uint8_t kMipNextGre = 47;      /* GRE: not supported */
inline constexpr uint8_t kMipNextMinimal = 55;  /* minimal encapsulation, RFC 2004: not supported */

/* RFC 3519 3.3 MIP Tunnel Data message header. */
struct MipTunnelHdr {
  uint8_t type;      /* 4 */
  uint8_t next;      /* next header */
  be16 reserved;     /* 0 on sending, ignored on reception */
};
static_assert(sizeof(MipTunnelHdr) == 4);

inline constexpr uint16_t kMipTunnelHdrLen = 4;
inline constexpr uint16_t kMipUdpOverhead = kIpv4HdrLen + kUdpHdrLen + kMipTunnelHdrLen; /* 32 */
static_assert(kMipUdpOverhead == 32);
/* RFC 5265 5.2: 12 bytes per Mobile IP layer (UDP 8 + tunnel header 4) over IP-in-IP. */
static_assert(kMipUdpOverhead - kIpipOverhead == 12);

struct MipTunnelEncapParams {
  Ipv4Addr src;              /* outer source */
  Ipv4Addr dst;              /* outer destination (the HA, or the MN's NAT) */
  uint16_t sport = kPortMip; /* HA -> MN: 434; MN -> HA: the MN's port */
  uint16_t dport = kPortMip; /* HA -> MN: the NAT's port learnt at registration */
  uint16_t id = 0;           /* outer Identification; the caller owns the counter */
  uint8_t ttl = 64;          /* outer TTL */
  bool always_df = false;    /* RFC 2003 3.1 / 5.1 */
  bool udp_csum = false;     /* compute a UDP checksum (default: zero) */
  Ipv4Check inner_check = Ipv4Check::kFull;
};

/*
 * Encapsulate the IPv4 datagram at pkt.data() as outer IPv4 / UDP /
 * tunnel header (type 4, next header 4, reserved 0) / inner, in the
 * headroom; trailing bytes after the inner total length are cut.
 * Errors (pkt unchanged): kBadPort (neither port is 434), kBadInner,
 * kTtlExpired, kTunnelLoop (as ipip_encap), kTooBig (inner + 32 > 65535),
 * kNoRoom (headroom < 32).
 */
CodecError mip_tunnel_encap(PktView& pkt, const MipTunnelEncapParams& p) noexcept;

struct MipTunnelDecapOpts {
  Ipv4Check outer_check = Ipv4Check::kFull;
  UdpCheck udp_check = UdpCheck::kFull;
  Ipv4Check inner_check = Ipv4Check::kFull;
};

struct MipTunnelOuter {
  Ipv4Addr src;        /* the MN's (or its NAT's) address */
  Ipv4Addr dst;
  uint16_t sport = 0;  /* the NAT's port: the HA replies to it */
  uint16_t dport = 0;
  uint8_t tos = 0;
  uint8_t ttl = 0;
};

/*
 * Decapsulate: on success pkt is the inner datagram, exactly its total
 * length. Errors (pkt unchanged): the outer IPv4 header's own,
 * kBadProtocol (not UDP), kFragment, the UDP header's own (kTruncated,
 * kBadLength, kBadChecksum), kBadPort (434 on neither side), kTruncated
 * (no room for the tunnel header), kBadTunnelHeader (type not 4),
 * kBadNextHeader (not 4), kBadInner, kTtlExpired (inner TTL 0).
 */
Parsed<MipTunnelOuter> mip_tunnel_decap(PktView& pkt, const MipTunnelDecapOpts& opts = {}) noexcept;

enum class MipUdpKind : uint8_t {
  kTunnelData,   /* type 4: the data path */
  kRegRequest,   /* type 1: punt to the control thread */
  kRegReply,     /* type 3: punt to the control thread */
  kOther,        /* empty, or another type: the control thread decides */
};

/* Classify a UDP/434 payload by its first byte (RFC 5944 3.3/3.4, RFC 3519 3.3). */
constexpr MipUdpKind mip_udp_classify(cbytes udp_payload) noexcept {
  if (udp_payload.empty()) return MipUdpKind::kOther;
  switch (std::to_integer<uint8_t>(udp_payload[0])) {
    case kMipTypeTunnelData: return MipUdpKind::kTunnelData;
    case kMipTypeRegRequest: return MipUdpKind::kRegRequest;
    case kMipTypeRegReply: return MipUdpKind::kRegReply;
    default: return MipUdpKind::kOther;
  }
}

}  // namespace mipvpn
