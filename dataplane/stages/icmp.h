/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The appliance's own ICMP (RFC 792, RFC 1812 4.3): echo replies for
 * requests to our addresses, time exceeded (RFC 1812 5.3.1) and
 * fragmentation needed with the next-hop MTU (RFC 1191; RFC 2003 5.1:
 * the tunnel MTU, reported to the original sender). Each one is built in
 * place in the offending packet's buffer and marked kAgain: the next pass
 * classifies it like any packet we originate, so an answer to a mobile
 * node goes back through the tunnels it came through. They are not
 * decremented again (PktState::ttl_done) and never themselves the
 * subject of an ICMP error (PktState::local). They keep the offending
 * packet's zone (PktState::prot): an error about clear traffic from
 * outside cannot be sent into the protected side.
 *
 * Errors are limited per pipeline by a token bucket (tables: icmp_rate,
 * icmp_burst; counted as icmp_errors_suppressed). When no error may be
 * sent (RFC 1812 4.3.2.7, the limit, no room) the packet is dropped with
 * the reason that provoked the error (ttl_exceeded, too_big).
 */
#pragma once

#include <cstdint>

#include "codec/endian.h"
#include "stages/stage.h"

namespace mipvpn {

inline constexpr uint8_t kIcmpTypeEchoReply = 0;
inline constexpr uint8_t kIcmpTypeUnreach = 3;
inline constexpr uint8_t kIcmpTypeEcho = 8;
inline constexpr uint8_t kIcmpTypeTimeExceeded = 11;
inline constexpr uint8_t kIcmpCodeFragNeeded = 4;  /* with type 3, RFC 1191 */
inline constexpr uint8_t kIcmpCodeTtl = 0;         /* with type 11 */
inline constexpr uint16_t kIcmpHdrLen = 8;
/* RFC 1812 4.3.2.3: an error is at most 576 bytes long. */
inline constexpr uint16_t kIcmpErrorMax = 576;

/* RFC 792; for type 3 code 4 the last word is {unused, next-hop MTU} (RFC 1191). */
struct IcmpHdr {
  uint8_t type;
  uint8_t code;
  be16 csum;
  be16 w1;  /* echo: identifier; errors: 0 */
  be16 w2;  /* echo: sequence; frag needed: next-hop MTU */
};
static_assert(sizeof(IcmpHdr) == kIcmpHdrLen);

/*
 * Classification found ICMP to one of our addresses (ip: its parse, not a
 * fragment). An echo request becomes the echo reply in place (RFC 792;
 * RFC 1122 3.2.2.6: from the address it was sent to, options dropped) and
 * is marked kAgain; anything else is dropped (local_icmp, truncated,
 * bad_checksum).
 */
void icmp_local(const StageCtx& c, uint16_t i, const Ipv4Info& ip) noexcept;

/*
 * Turn packet i, as it was received (not encapsulated in this call), into
 * the ICMP error type/code (mtu: the next-hop MTU for fragmentation
 * needed, else 0), or drop it with `cause` when no error may be sent.
 */
void icmp_error(const StageCtx& c, uint16_t i, uint8_t type, uint8_t code, uint16_t mtu,
                StageDrop cause) noexcept;

/*
 * Packet i is larger than port_mtu, the MTU of its output port. DF clear:
 * dropped as too_big (we do not fragment: see drop.h). DF set: the error
 * "fragmentation needed" to the sender of the user datagram, with the
 * largest user datagram that fits once the tunnels this call added are
 * added again (RFC 2003 5.1, RFC 1191).
 */
void icmp_too_big(const StageCtx& c, uint16_t i, uint16_t port_mtu) noexcept;

/* The slow halves of the two below (icmp.cc). */
void icmp_keep_head(const StageCtx& c, uint16_t i) noexcept;
void icmp_note_esp(const StageCtx& c, uint16_t i, uint32_t len_in, uint32_t len_out,
                   uint8_t align) noexcept;

/* An encapsulation stage is about to add a tunnel header to packet i: the
 * first time in this call, keep the head of the user datagram (only a
 * datagram with DF set can be the subject of "fragmentation needed";
 * ours never are). Inline: the common case is one or two tests. */
inline void icmp_before_encap(const StageCtx& c, uint16_t i) noexcept {
  PktState& s = c.st[i];
  if (s.encapped) return;
  s.encapped = true;
  if (s.local) return;
  if ((header_at<Ipv4Hdr>(c.pkts[i]->data())->frag_off.host() & kIpv4FlagDf) == 0) return;
  icmp_keep_head(c, i);
}

/* ESP outbound turned len_in bytes into len_out with payload alignment align. */
inline void icmp_after_esp(const StageCtx& c, uint16_t i, uint32_t len_in, uint32_t len_out,
                           uint8_t align) noexcept {
  if (c.st[i].quoted) icmp_note_esp(c, i, len_in, len_out, align);
}

}  // namespace mipvpn
