/* SPDX-License-Identifier: BSD-3-Clause */
#include "stages/mip_decap.h"

#include <algorithm>

#include "codec/ipip.h"
#include "codec/mip_tunnel.h"
#include "stages/ipv4_fast.h"

namespace mipvpn {

namespace {

/* RFC 3024 5.2 / RFC 5944 4.2.3 (and RFC 3519 5.2 for the port). */
StageDrop reverse_check(const Binding* b, Ipv4Addr src, uint16_t sport, MipTunnel tun) noexcept {
  if (!b || b->n_coa == 0) return StageDrop::kNoBinding;
  for (uint32_t k = 0; k < b->n_coa && k < Binding::kMaxCoa; ++k) {
    const BindingCoa& e = b->coa[k];
    if (e.peer != src) continue;
    if (tun == MipTunnel::kUdp ? (e.encap == BindingEncap::kUdp && e.peer_port == sport)
                               : e.encap == BindingEncap::kIpIp)
      return StageDrop::kNone;
  }
  return StageDrop::kCoaMismatch;
}

/*
 * ipip_decap() (codec/ipip.h) on the hot path, with the same checks and
 * results: outer protocol 4, not a fragment, the inner datagram valid
 * IPv4 (kBadInner otherwise) with TTL != 0 (RFC 2003 3.1), Ethernet
 * padding cut. Classification verified the outer header's checksum in
 * this pass; the inner one is verified here.
 */
CodecError ipip_decap_fast(PktView& p, Ipv4Addr* osrc, Ipv4Addr* odst) noexcept {
  const cbytes b(p.bytes());
  Ipv4Info out, in;
  if (const CodecError e = ipv4_parse_fast(b, Ipv4Check::kNoChecksum, &out); e != CodecError::kOk)
    return e;
  if (out.proto != kIpProtoIpip) return CodecError::kBadProtocol;
  if (out.fragment) return CodecError::kFragment;
  if (ipv4_parse_fast(b.subspan(out.hdr_len, out.total_len - out.hdr_len), Ipv4Check::kFull, &in) !=
      CodecError::kOk)
    return CodecError::kBadInner;
  if (in.ttl == 0) return CodecError::kTtlExpired;
  p.data_off += out.hdr_len;
  p.data_len = in.total_len;
  *osrc = out.src;
  *odst = out.dst;
  return CodecError::kOk;
}

}  // namespace

void mip_decap_stage(const StageCtx& c, const uint16_t* idx, uint16_t n, MipTunnel tun,
                     const BindingTable& bt, Stage stage) noexcept {
  if (n == 0) return;
  uint16_t ok[kMaxBurst];
  Ipv4Addr* const home = c.scr.a0.data();
  Ipv4Addr* const osrc = c.scr.a1.data();
  Ipv4Addr* const odst = c.scr.a2.data();
  uint16_t oport[kMaxBurst];
  uint16_t m = 0;
  for (uint16_t k = 0; k < n; ++k) {
    const uint16_t i = idx[k];
    PktView& p = *c.pkts[i];
    if (tun == MipTunnel::kUdp) {
      auto r = mip_tunnel_decap(p);
      if (!r) {
        c.drop(i, stage_drop(r.error()));
        continue;
      }
      osrc[m] = r->src;
      odst[m] = r->dst;
      oport[m] = r->sport;
    } else {
      if (const CodecError e = ipip_decap_fast(p, &osrc[m], &odst[m]); e != CodecError::kOk) {
        c.drop(i, stage_drop(e));
        continue;
      }
      oport[m] = 0;
    }
    /* The decapsulator checked the inner header: its source is at 12. */
    home[m] = Ipv4Addr(header_at<Ipv4Hdr>(p.data())->src.host());
    ok[m++] = i;
  }
  const Binding* rec[BindingTable::kMaxBulk];
  uint64_t good = 0;
  for (uint16_t off = 0; off < m; off = static_cast<uint16_t>(off + BindingTable::kMaxBulk)) {
    const uint32_t cnt = std::min<uint32_t>(m - off, BindingTable::kMaxBulk);
    bt.lookup_bulk(home + off, cnt, rec);
    for (uint32_t k = 0; k < cnt; ++k) {
      const StageDrop d = reverse_check(rec[k], osrc[off + k], oport[off + k], tun);
      if (d != StageDrop::kNone) {
        c.drop(ok[off + k], d);
        continue;
      }
      c.st[ok[off + k]].via = odst[off + k];  /* our end of the tunnel (ICMP source) */
      c.again_ok(ok[off + k]);  /* the decapsulator verified the inner header */
      ++good;
    }
  }
  c.ctr.stage[static_cast<size_t>(stage)] += good;
}

}  // namespace mipvpn
