/* SPDX-License-Identifier: BSD-3-Clause */
#include "stages/icmp.h"

#include <algorithm>
#include <chrono>
#include <cstring>

#include "codec/udp.h"

namespace mipvpn {

IcmpClock icmp_default_clock() noexcept {
  IcmpClock k;
  k.now = [](const void*) noexcept -> uint64_t {
    return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                     std::chrono::steady_clock::now().time_since_epoch())
                                     .count());
  };
  k.hz = 1000000000;
  return k;
}

namespace {

inline constexpr uint16_t kErrHdrs = kIpv4HdrLen + kIcmpHdrLen;  /* 28 */
inline constexpr uint16_t kQuoteMax = kIcmpErrorMax - kErrHdrs;  /* 548 */
inline constexpr uint8_t kTtlOurs = 64;
/* The TOS of a datagram we originate in answer to another: its DSCP,
 * never its ECN bits (RFC 3168: a new datagram is not ECN-capable unless
 * its sender says so; CE must not be carried over). */
constexpr uint8_t answer_tos(uint8_t tos) noexcept { return tos & 0xfc; }

constexpr uint32_t top8(Ipv4Addr a) noexcept { return a.host() >> 24; }

/* RFC 1812 4.3.2.7: no error about a packet from 0/8 ("this network"),
 * 127/8, a multicast, class E or the broadcast address... */
constexpr bool bad_source(Ipv4Addr a) noexcept {
  return top8(a) == 0 || top8(a) == 127 || top8(a) >= 224;
}
/* ...nor about one sent to a multicast or broadcast address. A directed
 * broadcast (subnet) is not known here: the tables hold port addresses,
 * not their prefixes, and the runtime does not say whether the frame was
 * a link-layer broadcast. */
constexpr bool bad_dest(Ipv4Addr a) noexcept { return top8(a) >= 224 || a.host() == 0; }

/* The query types of RFC 792 / RFC 950; everything else (the errors 3, 4,
 * 5, 11, 12 and unknown types) is treated as an error: never answered. */
constexpr bool icmp_query(uint8_t type) noexcept {
  return type == 0 || type == 8 || (type >= 13 && type <= 18);
}

/* RFC 1812 4.3.2.7 on the offending datagram's head (a valid IPv4 header
 * and whatever follows it). */
bool may_send(const StageCtx& c, uint16_t i, cbytes head) noexcept {
  if (c.st[i].local) return false;
  const auto* h = header_at<Ipv4Hdr>(head.data());
  const size_t hl = size_t{h->ver_ihl & 0x0fu} * 4;
  if ((h->frag_off.host() & kIpv4OffMask) != 0) return false;  /* not the first fragment */
  const Ipv4Addr src(h->src.host()), dst(h->dst.host());
  if (bad_source(src) || bad_dest(dst) || c.t.own(src)) return false;
  if (h->proto == kIpProtoIcmp &&
      (head.size() <= hl || !icmp_query(std::to_integer<uint8_t>(head[hl]))))
    return false;  /* an ICMP error (or too short to tell) */
  return true;
}

/*
 * RFC 1812 4.3.2.4 wants the address of the interface the offending
 * packet came in on. A packet that came out of one of our tunnels in this
 * call came in on that tunnel: the source is our end of it (the i-HA,
 * x-HA or gateway address, PktState::via). The sender knows that address
 * (it registered with it, or it is its VPN peer) and the error reaches it
 * through the same tunnels; the outside port's address would show a node
 * inside the VPN the outside topology, and an inside sender may have no
 * route to it at all. Otherwise, the address of the input port.
 */
Ipv4Addr error_source(const StageCtx& c, const PktState& s) noexcept {
  return s.via.host() != 0 ? s.via : c.t.port_addr(c.icmp.in_port);
}

bool rate_ok(const StageCtx& c) noexcept {
  IcmpCtx& k = c.icmp;
  if (k.rl && k.rl->take(k.time(), k.clock.hz, c.t.icmp_rate(), c.t.icmp_burst())) return true;
  c.ctr.stage[static_cast<size_t>(Stage::kIcmpSuppressed)]++;
  return false;
}

/* The IPv4 and ICMP headers of an error at out; the quote (qlen bytes)
 * is already at out + 28. */
void write_error(std::byte* out, uint16_t qlen, Ipv4Addr src, Ipv4Addr dst, uint8_t tos, uint16_t id,
                 uint8_t type, uint8_t code, uint16_t mtu) noexcept {
  const auto icmp_len = static_cast<uint16_t>(kIcmpHdrLen + qlen);
  /* RFC 1812 4.3.2.5: the TOS of the datagram that provoked it. */
  ipv4_build({out, kIpv4HdrLen}, {.src = src, .dst = dst,
                                  .total_len = static_cast<uint16_t>(kIpv4HdrLen + icmp_len),
                                  .id = id, .proto = kIpProtoIcmp, .ttl = kTtlOurs,
                                  .tos = answer_tos(tos)});
  std::byte* m = out + kIpv4HdrLen;
  m[0] = std::byte{type};
  m[1] = std::byte{code};
  store_be16(m + 2, 0);
  store_be16(m + 4, 0);
  store_be16(m + 6, mtu);  /* RFC 1191; 0 ("unused") for the other errors */
  store_be16(m + 2, ip_checksum(cbytes(m, icmp_len)));
}

void become_local(const StageCtx& c, uint16_t i, Stage counted) noexcept {
  PktState& s = c.st[i];
  s.local = true;
  s.ttl_done = true;  /* originated here: RFC 1812 does not decrement it */
  s.encapped = false;
  s.quoted = false;
  s.via = Ipv4Addr();
  c.again(i);
  c.ctr.stage[static_cast<size_t>(counted)]++;
}

/* The largest user datagram that still fits port_mtu once the tunnels of
 * this call are added again; out_len is what the user datagram became. */
uint16_t tunnel_mtu(const IcmpQuote& q, uint32_t out_len, uint16_t port_mtu) noexcept {
  int64_t m;
  if (q.esp_n == 1 && q.esp_align != 0) {
    /* RFC 4303 2.4: ESP adds a fixed part (outer IPv4 [+ UDP], header, IV,
     * ICV) and pads payload + 2 trailer bytes to the alignment: exact. */
    const int64_t a = q.esp_align;
    const int64_t after = int64_t{out_len} - q.esp_out;           /* tunnels after ESP */
    const int64_t padded = (int64_t{q.esp_in} + 2 + a - 1) / a * a;
    const int64_t fixed = int64_t{q.esp_out} - padded;
    const int64_t before = int64_t{q.esp_in} - q.user_len;        /* tunnels before ESP */
    const int64_t room = int64_t{port_mtu} - after - fixed;
    m = (room >= 0 ? room / a * a : 0) - 2 - before;
  } else {
    /* Constant-size tunnels only: exact. Nested ESP (not a layout this
     * appliance builds): up to 16 bytes of padding per pass, conservative. */
    m = int64_t{port_mtu} - (int64_t{out_len} - q.user_len) - 16 * int64_t{q.esp_n};
  }
  /* RFC 1191 section 3: no host goes under 68; neither do we report it. */
  return static_cast<uint16_t>(std::clamp<int64_t>(m, 68, 0xffff));
}

}  // namespace

void icmp_local(const StageCtx& c, uint16_t i, const Ipv4Info& ip) noexcept {
  PktView& p = *c.pkts[i];
  const bytes pay = ipv4_payload(p.bytes(), ip);
  if (pay.size() < kIcmpHdrLen) return c.drop(i, StageDrop::kTruncated);
  if (std::to_integer<uint8_t>(pay[0]) != kIcmpTypeEcho) return c.drop(i, StageDrop::kLocalIcmp);
  /* RFC 1122 3.2.2: a message with a bad checksum is dropped. */
  if (csum_fold(csum_partial(pay)) != 0) return c.drop(i, StageDrop::kBadChecksum);
  /* Answer unicast sources only (RFC 1122 3.2.2.6 and 3.2.1.3). */
  if (bad_source(ip.src) || c.t.own(ip.src)) return c.drop(i, StageDrop::kLocalIcmp);

  /* RFC 792: type 0, code 0, the rest as it came; checksum by RFC 1624. */
  std::byte* m = pay.data();
  const uint16_t old_word = load_be16(m);
  m[0] = std::byte{kIcmpTypeEchoReply};
  m[1] = std::byte{0};
  store_be16(m + 2, csum_update16(load_be16(m + 2), old_word, 0));
  /* RFC 1122 3.2.2.6: from the address the request was sent to. The
   * request's options are not echoed (record route and timestamp are
   * optional there): a fresh 20-byte header right before the ICMP. */
  const uint16_t opt = static_cast<uint16_t>(ip.hdr_len - kIpv4HdrLen);
  p.data_off += opt;
  p.data_len = static_cast<uint32_t>(ip.total_len - opt);
  ipv4_build({p.data(), kIpv4HdrLen},
             {.src = ip.dst, .dst = ip.src, .total_len = static_cast<uint16_t>(p.data_len),
              .id = c.ip_id++, .proto = kIpProtoIcmp, .ttl = kTtlOurs, .tos = answer_tos(ip.tos)});
  become_local(c, i, Stage::kIcmpEchoReply);
}

void icmp_error(const StageCtx& c, uint16_t i, uint8_t type, uint8_t code, uint16_t mtu,
                StageDrop cause) noexcept {
  PktView& p = *c.pkts[i];
  const PktState& s = c.st[i];
  /* The stages keep data_len == total length of a valid header here. */
  const cbytes pkt(p.bytes());
  if (pkt.size() < kIpv4HdrLen || !may_send(c, i, pkt)) return c.drop(i, cause);
  const Ipv4Addr src = error_source(c, s);
  if (src.host() == 0) return c.drop(i, cause);
  const auto* h = header_at<Ipv4Hdr>(p.data());
  const Ipv4Addr dst(h->src.host());
  const uint8_t tos = h->tos;
  /* RFC 1812 4.3.2.3: as much of the datagram as fits in 576 bytes. */
  const auto q = static_cast<uint16_t>(std::min<size_t>(pkt.size(), kQuoteMax));
  const bool prepend = p.headroom() >= kErrHdrs;
  if (!prepend && p.buf_len - p.data_off < uint32_t{kErrHdrs} + q) return c.drop(i, cause);
  if (!rate_ok(c)) return c.drop(i, cause);
  if (prepend)
    p.data_off -= kErrHdrs;
  else
    std::memmove(p.data() + kErrHdrs, p.data(), q);
  p.data_len = uint32_t{kErrHdrs} + q;
  write_error(p.data(), q, src, dst, tos, c.ip_id++, type, code, mtu);
  become_local(c, i, Stage::kIcmpError);
}

void icmp_too_big(const StageCtx& c, uint16_t i, uint16_t port_mtu) noexcept {
  PktView& p = *c.pkts[i];
  const PktState& s = c.st[i];
  if (s.local) return c.drop(i, StageDrop::kTooBig);
  if (!s.encapped) {
    /* As received: RFC 1191 with the port's MTU, when DF asks for it. */
    if ((header_at<Ipv4Hdr>(p.data())->frag_off.host() & kIpv4FlagDf) == 0)
      return c.drop(i, StageDrop::kTooBig);
    return icmp_error(c, i, kIcmpTypeUnreach, kIcmpCodeFragNeeded, port_mtu, StageDrop::kTooBig);
  }
  /* Encapsulated in this call. The user datagram had DF clear (no
   * snapshot): RFC 2003 5.1 lets us fragment the outer datagram, which
   * needs buffers the burst does not have: too_big (drop.h). */
  if (!s.quoted) return c.drop(i, StageDrop::kTooBig);
  const IcmpQuote& q = c.icmp.quote[i];
  const cbytes head(q.head, q.len);
  if (!may_send(c, i, head)) return c.drop(i, StageDrop::kTooBig);
  const Ipv4Addr src = error_source(c, s);
  if (src.host() == 0) return c.drop(i, StageDrop::kTooBig);
  /* The tunnel MTU goes to the original sender (RFC 2003 5.1), quoting
   * the head kept before the first encapsulation: header + 8 bytes (RFC
   * 792), since the rest may have been encrypted since. */
  const uint16_t mtu = tunnel_mtu(q, p.data_len, port_mtu);
  const uint32_t need = uint32_t{kErrHdrs} + q.len;
  if (p.buf_len < need) return c.drop(i, StageDrop::kTooBig);
  if (!rate_ok(c)) return c.drop(i, StageDrop::kTooBig);
  if (p.buf_len - p.data_off < need) p.data_off = p.buf_len - need;
  const auto* h = header_at<Ipv4Hdr>(q.head);
  std::memcpy(p.data() + kErrHdrs, q.head, q.len);
  p.data_len = need;
  write_error(p.data(), q.len, src, Ipv4Addr(h->src.host()), h->tos, c.ip_id++, kIcmpTypeUnreach,
              kIcmpCodeFragNeeded, mtu);
  become_local(c, i, Stage::kIcmpError);
}

/* icmp_before_encap (icmp.h) for a datagram of the user's with DF set. */
void icmp_keep_head(const StageCtx& c, uint16_t i) noexcept {
  PktState& s = c.st[i];
  const PktView& p = *c.pkts[i];
  const auto* h = header_at<Ipv4Hdr>(p.data());
  IcmpQuote& q = c.icmp.quote[i];
  const size_t hl = size_t{h->ver_ihl & 0x0fu} * 4;
  q.len = static_cast<uint16_t>(std::min<size_t>({p.data_len, hl + 8, IcmpQuote::kMax}));
  q.user_len = static_cast<uint16_t>(p.data_len);
  q.esp_n = 0;
  q.esp_align = 0;
  std::memcpy(q.head, p.data(), q.len);
  s.quoted = true;
}

/* icmp_after_esp (icmp.h) for a packet whose head is kept. */
void icmp_note_esp(const StageCtx& c, uint16_t i, uint32_t len_in, uint32_t len_out,
                   uint8_t align) noexcept {
  IcmpQuote& q = c.icmp.quote[i];
  if (q.esp_n++ != 0) return;
  q.esp_in = static_cast<uint16_t>(len_in);
  q.esp_out = static_cast<uint16_t>(len_out);
  q.esp_align = align > 4 ? align : 4;  /* RFC 4303 2.4: at least 4 */
}

}  // namespace mipvpn
