/* SPDX-License-Identifier: BSD-3-Clause */
#include "stages/server_pipeline.h"

#include "stages/classify.h"
#include "stages/esp_stage.h"
#include "stages/forward.h"
#include "stages/mip_decap.h"
#include "stages/mip_encap.h"

namespace mipvpn {

std::unique_ptr<ServerPipeline> ServerPipeline::create(const std::atomic<const StageTables*>& tables,
                                                       std::string* err) {
  auto eng = EspEngine::create(err);
  if (!eng) return nullptr;
  return std::unique_ptr<ServerPipeline>(new ServerPipeline(tables, std::move(eng)));
}

void ServerPipeline::process(PktView* const* pkts, uint16_t n, uint16_t in_port,
                             Ipv4Addr* next_hop) noexcept {
  /* The contract says n <= kMaxBurst; a longer burst is taken in chunks. */
  for (uint32_t off = 0; off < n; off += kMaxBurst) {
    const auto m = static_cast<uint16_t>(n - off < kMaxBurst ? n - off : kMaxBurst);
    process_chunk(pkts + off, m, in_port, next_hop + off);
  }
}

void ServerPipeline::process_chunk(PktView* const* pkts, uint16_t n, uint16_t in_port,
                                   Ipv4Addr* next_hop) noexcept {
  const StageTables* t = tables_.load(std::memory_order_acquire);
  ctr_.rx += n;
  if (!t) {  /* nothing published yet: nothing is routable */
    for (uint16_t i = 0; i < n; ++i) {
      pkts[i]->user = kVerdictDrop;
      pkts[i]->drop = static_cast<uint16_t>(StageDrop::kNoRoute);
    }
    ctr_.drops[static_cast<size_t>(StageDrop::kNoRoute)] += n;
    return;
  }
  IcmpCtx icmp{.in_port = in_port, .rl = &icmp_rl_, .clock = clock_, .quote = quote_.data()};
  memo_.sync(*t);
  const StageCtx c{*t, pkts, next_hop, st_.data(), ctr_, ip_id_, icmp, scr_, memo_};

  uint16_t work[kMaxBurst];
  uint16_t nw = n;
  const bool internal = t->port_internal(in_port);
  for (uint16_t i = 0; i < n; ++i) {
    work[i] = i;
    st_[i] = PktState{};
    st_[i].prot = internal;
    next_hop[i] = Ipv4Addr();
  }

  for (uint32_t pass = 0; pass < kMaxPasses && nw > 0; ++pass) {
    classify_burst(c, work, nw);

    uint16_t cnt[kActions] = {};
    for (uint16_t k = 0; k < nw; ++k) {
      const auto a = static_cast<size_t>(st_[work[k]].act);
      grp_[a][cnt[a]++] = work[k];
    }
    auto group = [&](Action a) { return grp_[static_cast<size_t>(a)].data(); };
    auto count = [&](Action a) { return cnt[static_cast<size_t>(a)]; };

    if (t->has(kRoleXha)) {
      mip_decap_stage(c, group(Action::kXmipDecapIpip), count(Action::kXmipDecapIpip),
                      MipTunnel::kIpip, *t->xha_bindings(), Stage::kXmipDecap);
      mip_decap_stage(c, group(Action::kXmipDecapUdp), count(Action::kXmipDecapUdp),
                      MipTunnel::kUdp, *t->xha_bindings(), Stage::kXmipDecap);
      mip_encap_stage(c, group(Action::kXmipEncap), count(Action::kXmipEncap), t->xha_addr(),
                      Stage::kXmipEncap);
    }
    if (t->has(kRoleVpnGw)) {
      esp_inb_stage(c, *eng_, group(Action::kEspInbound), count(Action::kEspInbound));
      esp_outb_stage(c, *eng_, group(Action::kEspOutbound), count(Action::kEspOutbound));
    }
    if (t->has(kRoleIha)) {
      mip_decap_stage(c, group(Action::kImipDecapIpip), count(Action::kImipDecapIpip),
                      MipTunnel::kIpip, *t->iha_bindings(), Stage::kImipDecap);
      mip_decap_stage(c, group(Action::kImipDecapUdp), count(Action::kImipDecapUdp),
                      MipTunnel::kUdp, *t->iha_bindings(), Stage::kImipDecap);
      mip_encap_stage(c, group(Action::kImipEncap), count(Action::kImipEncap), t->iha_addr(),
                      Stage::kImipEncap);
    }
    forward_stage(c, group(Action::kForward), count(Action::kForward));
    for (uint16_t k = 0; k < count(Action::kPunt); ++k) {
      const uint16_t i = group(Action::kPunt)[k];
      pkts[i]->user = kVerdictPunt;
      st_[i].act = Action::kDone;
    }
    ctr_.stage[static_cast<size_t>(Stage::kPunt)] += count(Action::kPunt);

    /* Outcomes: drops get their verdict now, the rest go round again. */
    uint16_t next = 0;
    for (uint16_t k = 0; k < nw; ++k) {
      const uint16_t i = work[k];
      switch (st_[i].act) {
        case Action::kAgain:
          work[next++] = i;
          break;
        case Action::kDone:
          break;
        default:
          /* kDrop, or an action whose role is off (cannot happen:
           * classification only picks actions of enabled roles). */
          if (st_[i].act != Action::kDrop) st_[i].drop = StageDrop::kLocalOther;
          pkts[i]->user = kVerdictDrop;
          pkts[i]->drop = static_cast<uint16_t>(st_[i].drop);
          ctr_.drops[static_cast<size_t>(st_[i].drop)]++;
          break;
      }
    }
    nw = next;
  }
  /* Still in play after kMaxPasses classifications: a tunnel loop. */
  for (uint16_t k = 0; k < nw; ++k) {
    pkts[work[k]]->user = kVerdictDrop;
    pkts[work[k]]->drop = static_cast<uint16_t>(StageDrop::kLoop);
  }
  ctr_.drops[static_cast<size_t>(StageDrop::kLoop)] += nw;
}

}  // namespace mipvpn
