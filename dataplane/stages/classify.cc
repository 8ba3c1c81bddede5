/* SPDX-License-Identifier: BSD-3-Clause */
#include "stages/classify.h"

#include <algorithm>

#include "codec/mip_tunnel.h"
#include "codec/natt.h"
#include "codec/udp.h"
#include "stages/dst_memo.h"
#include "stages/icmp.h"
#include "stages/ipv4_fast.h"

namespace mipvpn {

namespace {

/* Rule 1: the destination is one of our addresses (own: kOwn* bits). */
void classify_local(const StageCtx& c, uint16_t i, const Ipv4Info& ip, uint8_t own) noexcept {
  PktView& p = *c.pkts[i];
  PktState& s = c.st[i];
  if (ip.fragment) return c.drop(i, StageDrop::kFragment);  /* no reassembly: drop.h */
  const cbytes pay = ipv4_payload(cbytes(p.bytes()), ip);
  const bool xha = own & kOwnXha, iha = own & kOwnIha, gw = own & kOwnGw;
  switch (ip.proto) {
    case kIpProtoIpip:  /* RFC 2003 */
      if (xha) { s.act = Action::kXmipDecapIpip; return; }
      if (iha) { s.act = Action::kImipDecapIpip; return; }
      break;
    case kIpProtoEsp: {  /* RFC 4303 */
      if (!gw) break;
      /* RFC 4303 2.1: SPI and sequence number in clear; 0..255 never name an SA. */
      if (pay.size() < kEspHdrLen) return c.drop(i, StageDrop::kTruncated);
      const uint32_t spi = load_be32(pay.data());
      if (spi < 256) return c.drop(i, StageDrop::kBadSpi);
      s.inb = c.t.inbound_sa(spi);
      if (!s.inb) return c.drop(i, StageDrop::kUnknownSpi);
      s.act = Action::kEspInbound;
      return;
    }
    case kIpProtoUdp: {
      auto u = udp_parse(pay, ip, UdpCheck::kNoChecksum);
      if (!u) return c.drop(i, stage_drop(u.error()));
      if (u->dport == kPortMip && (xha || iha)) {
        /* RFC 1122 4.1.3.4: a non-zero checksum that fails is discarded. */
        auto uf = udp_parse(pay, ip, UdpCheck::kFull);
        if (!uf) return c.drop(i, stage_drop(uf.error()));
        const cbytes msg = pay.subspan(kUdpHdrLen, u->len - kUdpHdrLen);
        /* RFC 3519 3.3: type 4 is data; registration and the rest go to
         * the agent on the control thread. */
        if (mip_udp_classify(msg) != MipUdpKind::kTunnelData) { s.act = Action::kPunt; return; }
        s.act = xha ? Action::kXmipDecapUdp : Action::kImipDecapUdp;
        return;
      }
      if (gw && u->dport == kPortIke) { s.act = Action::kPunt; return; }  /* RFC 7296 */
      if (gw && u->dport == kPortNatt) {
        auto d = natt_demux(cbytes(p.bytes()));
        if (!d) return c.drop(i, stage_drop(d.error()));
        switch (d->kind) {
          case NattKind::kIke: s.act = Action::kPunt; return;                   /* RFC 3948 2.2 */
          case NattKind::kKeepalive: return c.drop(i, StageDrop::kNattKeepalive);  /* 2.3 */
          case NattKind::kEsp: break;
        }
        s.inb = c.t.inbound_sa(d->spi);
        if (!s.inb) return c.drop(i, StageDrop::kUnknownSpi);
        s.act = Action::kEspInbound;
        return;
      }
      break;
    }
    case kIpProtoIcmp:  /* RFC 792: echo requests are answered */
      return icmp_local(c, i, ip);
    default:
      break;
  }
  c.drop(i, StageDrop::kLocalOther);
}

/* RFC 4301 5.1 / 5.2: clear traffic from outside may not be sent into
 * the VPN (rule 3) nor to a mobile node's internal home address (rule 2). */
inline void refuse_unprotected(const StageCtx& c, uint16_t i) noexcept {
  const PktState& s = c.st[i];
  if (!s.prot && (s.act == Action::kImipEncap || s.act == Action::kEspOutbound))
    c.drop(i, StageDrop::kUnprotected);
}

/* Rules 2 and 4: bindings for dst[k] in table bt, in bulk; hits get act. */
void bind_bulk(const StageCtx& c, const BindingTable& bt, const uint16_t* idx, const Ipv4Addr* dst,
               uint16_t n, Action act) noexcept {
  const Binding* rec[BindingTable::kMaxBulk];
  for (uint16_t off = 0; off < n; off = static_cast<uint16_t>(off + BindingTable::kMaxBulk)) {
    const uint32_t m = std::min<uint32_t>(n - off, BindingTable::kMaxBulk);
    bt.lookup_bulk(dst + off, m, rec);
    for (uint32_t k = 0; k < m; ++k) {
      if (!rec[k] || rec[k]->n_coa == 0) continue;
      PktState& s = c.st[idx[off + k]];
      s.act = act;
      s.bind = rec[k];
    }
  }
}

}  // namespace

void classify_burst(const StageCtx& c, const uint16_t* idx, uint16_t n) noexcept {
  uint16_t rest[kMaxBurst];   /* not to us: rules 2..5 */
  Ipv4Addr* const dst = c.scr.a0.data();
  uint16_t nr = 0;
  for (uint16_t k = 0; k < n; ++k) {
    const uint16_t i = idx[k];
    PktView& p = *c.pkts[i];
    PktState& s = c.st[i];
    s.inb = nullptr;
    s.outb = nullptr;
    s.bind = nullptr;
    /* A header a stage verified or built in this call is not summed again. */
    const Ipv4Check chk = s.hdr_ok ? Ipv4Check::kNoChecksum : Ipv4Check::kFull;
    s.hdr_ok = false;
    Ipv4Info ip;
    if (const CodecError e = ipv4_parse_fast(cbytes(p.bytes()), chk, &ip); e != CodecError::kOk) {
      c.drop(i, stage_drop(e));
      continue;
    }
    p.data_len = ip.total_len;  /* cut Ethernet padding */
    const uint8_t own = c.t.own(ip.dst);
    if (own) {
      classify_local(c, i, ip, own);
      continue;
    }
    /* Rules 2..4 as this worker last found them for this address. */
    if (const DstMemo::Entry* e = c.memo.find(ip.dst)) {
      s.act = e->act;
      if (e->act == Action::kEspOutbound) {
        s.outb = static_cast<EspSa*>(const_cast<void*>(e->ref));
      } else if (e->act != Action::kForward) {
        s.bind = static_cast<const Binding*>(e->ref);
      }
      refuse_unprotected(c, i);
      continue;
    }
    s.act = Action::kForward;
    rest[nr] = i;
    dst[nr++] = ip.dst;
  }
  if (nr == 0) return;

  /* Rule 2: i-HoA with an i-HA binding. */
  if (c.t.has(kRoleIha)) bind_bulk(c, *c.t.iha_bindings(), rest, dst, nr, Action::kImipEncap);
  /* Rule 3: outbound SPD, longest prefix first, for what rule 2 left;
   * what rule 3 leaves goes to rule 4; the zone check for rules 2 and 3. */
  const bool gw = c.t.has(kRoleVpnGw), xha = c.t.has(kRoleXha);
  uint16_t left[kMaxBurst];
  Ipv4Addr* const ldst = c.scr.a1.data();
  uint16_t nl = 0;
  for (uint16_t k = 0; k < nr; ++k) {
    PktState& s = c.st[rest[k]];
    if (s.act == Action::kForward) {
      if (gw && (s.outb = c.t.spd_lookup(dst[k])) != nullptr) {
        s.act = Action::kEspOutbound;
        c.memo.put(dst[k], Action::kEspOutbound, s.outb);
      } else if (xha) {
        left[nl] = rest[k];
        ldst[nl++] = dst[k];
        continue;
      } else {
        c.memo.put(dst[k], Action::kForward, nullptr);
        continue;
      }
    } else {
      c.memo.put(dst[k], Action::kImipEncap, s.bind);
    }
    refuse_unprotected(c, rest[k]);
  }
  /* Rule 4: x-HoA with an x-HA binding, for what is still unclaimed. */
  if (nl) {
    bind_bulk(c, *c.t.xha_bindings(), left, ldst, nl, Action::kXmipEncap);
    for (uint16_t k = 0; k < nl; ++k) {
      const PktState& s = c.st[left[k]];
      c.memo.put(ldst[k], s.act, s.act == Action::kXmipEncap ? s.bind : nullptr);
    }
  }
  /* Rule 5: the rest stays kForward (forward_stage checks the zone). */
}

}  // namespace mipvpn
