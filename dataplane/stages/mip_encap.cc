/* SPDX-License-Identifier: BSD-3-Clause */
#include "stages/mip_encap.h"

#include "codec/ipip.h"
#include "codec/mip_tunnel.h"

namespace mipvpn {

void mip_encap_stage(const StageCtx& c, const uint16_t* idx, uint16_t n, Ipv4Addr own,
                     Stage stage) noexcept {
  uint64_t good = 0;
  for (uint16_t k = 0; k < n; ++k) {
    const uint16_t i = idx[k];
    PktView& p = *c.pkts[i];
    PktState& s = c.st[i];
    const Binding& b = *s.bind;
    const BindingCoa& e = b.coa[0];
    const Ipv4Addr src = b.ha.host() != 0 ? b.ha : own;
    /* Room first, so that a refused packet keeps its TTL. */
    const uint32_t need = e.encap == BindingEncap::kUdp ? kMipUdpOverhead : kIpipOverhead;
    if (p.headroom() < need) {
      c.drop(i, StageDrop::kNoHeadroom);
      continue;
    }
    if (!ttl_once(p, s)) {
      c.drop(i, StageDrop::kTtlExceeded);
      continue;
    }
    CodecError err;
    const uint16_t id = c.ip_id++;
    if (e.encap == BindingEncap::kUdp) {
      /* RFC 3519 4: from 434 to the address and port the request came from. */
      err = mip_tunnel_encap(p, {.src = src, .dst = e.peer, .sport = kPortMip,
                                 .dport = e.peer_port, .id = id,
                                 .inner_check = Ipv4Check::kNoChecksum});
    } else {
      err = ipip_encap(p, {.src = src, .dst = e.care_of, .id = id,
                           .inner_check = Ipv4Check::kNoChecksum});
    }
    if (err != CodecError::kOk) {
      c.drop(i, stage_drop(err));
      continue;
    }
    c.again(i);
    ++good;
  }
  c.ctr.stage[static_cast<size_t>(stage)] += good;
}

}  // namespace mipvpn
