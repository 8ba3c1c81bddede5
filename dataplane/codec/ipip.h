/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * IP in IP encapsulation, RFC 2003:
 *   section 3.1  outer header fields (TOS copied, DF rule, TTL, protocol 4),
 *                the inner TTL rules for encapsulator and decapsulator;
 *   section 3.2  routing loops: an encapsulator refuses a datagram whose
 *                source is the tunnel destination or its own address;
 *   section 5.1  DF set on the outer header for Path MTU Discovery.
 * The helpers under "shared by IPv4 tunnels" are also used by the RFC 3519
 * UDP tunnel (mip_tunnel.h), which applies the same header rules.
 *
 * What this codec leaves to the caller, because it needs state:
 *  - RFC 2003 3.1: decrementing the inner TTL when the tunnel is entered
 *    as part of forwarding (ipv4_ttl_decrement(), before ipip_encap()),
 *    and ICMP Time Exceeded on kTtlExpired;
 *  - RFC 2003 3.2: the source matching *any* of the router's addresses
 *    (we only compare with the tunnel source we are given);
 *  - RFC 2003 4 / 5: ICMP relaying and per-tunnel soft state (MTU, TTL,
 *    reachability); fragmenting the outer datagram against the tunnel MTU;
 *  - RFC 2003 6.2: admitting a decapsulated datagram only from a trusted
 *    outer source / for an inner destination we serve (binding lookup by
 *    the outer source that ipip_decap() returns);
 *  - reassembly of outer fragments (ipip_decap() refuses them);
 *  - RFC 6040 ECN egress (combining the outer ECN into the inner header):
 *    ipip_decap() returns the outer TOS for it.
 *
 * No DPDK, no allocation, no exceptions; nothing outside the PktView's
 * buffer is read or written.
 */
#pragma once

#include <cstdint>

#include "codec/error.h"
#include "codec/ipv4.h"
#include "codec/pkt.h"

namespace mipvpn {

inline constexpr uint16_t kIpipOverhead = kIpv4HdrLen; /* 20: one option-less outer header */

/* Set up once per tunnel; id changes per packet (the caller owns the counter). */
struct IpipEncapParams {
  Ipv4Addr src;              /* outer source: the encapsulator (RFC 2003 3.1) */
  Ipv4Addr dst;              /* outer destination: the decapsulator */
  uint16_t id = 0;           /* outer Identification */
  uint8_t ttl = 64;          /* outer TTL: enough to reach the tunnel exit (3.1) */
  bool always_df = false;    /* set DF even if the inner has none (3.1, 5.1) */
  Ipv4Check inner_check = Ipv4Check::kFull;
};

/*
 * Encapsulate the IPv4 datagram at pkt.data(): a 20-byte outer header is
 * written into the headroom; trailing bytes after the inner total length
 * (Ethernet padding) are cut off. Expects data_off + data_len <= buf_len.
 * Errors (pkt unchanged): kBadInner (inner not a valid IPv4 datagram),
 * kTtlExpired (inner TTL 0, 3.1), kTunnelLoop (inner source is the outer
 * source or destination, 3.2), kTooBig (inner + 20 > 65535), kNoRoom
 * (headroom < 20).
 */
CodecError ipip_encap(PktView& pkt, const IpipEncapParams& p) noexcept;

struct IpipDecapOpts {
  Ipv4Check outer_check = Ipv4Check::kFull;
  Ipv4Check inner_check = Ipv4Check::kFull;
};

/* What decapsulation learned about the outer header. */
struct TunnelOuter {
  Ipv4Addr src;        /* the encapsulator: the HA finds the binding with it */
  Ipv4Addr dst;
  uint8_t tos = 0;     /* for ECN egress (RFC 6040), done by the caller */
  uint8_t ttl = 0;
};

/*
 * Decapsulate: on success pkt is the inner datagram, exactly its total
 * length. Errors (pkt unchanged): the outer header's own (kTruncated,
 * kBadVersion, kBadIhl, kBadLength, kBadChecksum), kBadProtocol (not 4),
 * kFragment (outer MF or offset: reassemble first), kBadInner (any inner
 * parse failure, or no inner header at all), kTtlExpired (inner TTL 0,
 * 3.1: "the decapsulator MUST discard the datagram").
 */
Parsed<TunnelOuter> ipip_decap(PktView& pkt, const IpipDecapOpts& opts = {}) noexcept;

/* ---- shared by IPv4 tunnels (RFC 2003 rules; RFC 3519 reuses them) ---- */

/*
 * Checks on an inner datagram about to enter a tunnel from outer_src to
 * outer_dst: valid IPv4 (else kBadInner), TTL != 0 (RFC 2003 3.1: "MUST
 * NOT encapsulate a datagram with TTL = 0"), source not a tunnel endpoint
 * (3.2, kTunnelLoop).
 */
Parsed<Ipv4Info> tunnel_inner_encap_check(cbytes inner, Ipv4Addr outer_src, Ipv4Addr outer_dst,
                                          Ipv4Check check) noexcept;

/*
 * Checks on an inner datagram that came out of a tunnel: valid IPv4 (any
 * failure is kBadInner) and TTL != 0 (RFC 2003 3.1, kTtlExpired).
 */
Parsed<Ipv4Info> tunnel_inner_decap_check(cbytes inner, Ipv4Check check) noexcept;

/*
 * The outer header fields of RFC 2003 3.1 for an inner header: TOS copied
 * (with its ECN bits: RFC 6040 normal mode), DF copied or forced, ID and
 * TTL from the caller, no options.
 */
constexpr Ipv4Build tunnel_outer_fields(const Ipv4Info& inner, Ipv4Addr src, Ipv4Addr dst,
                                        uint16_t id, uint8_t ttl, bool always_df, uint8_t proto,
                                        uint16_t total_len) noexcept {
  return Ipv4Build{.src = src, .dst = dst, .total_len = total_len, .id = id, .proto = proto,
                   .ttl = ttl, .tos = inner.tos, .df = inner.df || always_df};
}

}  // namespace mipvpn
