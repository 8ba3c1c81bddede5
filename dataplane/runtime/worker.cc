/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The worker loop: rx burst -> Ethernet (runtime/eth.h) -> [software
 * spread] -> Pipeline::process -> tx burst per output port / drop / punt.
 * No allocation, locks or logging here; counters add up in locals and are
 * written once per loop iteration.
 */
#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_rcu_qsbr.h>

#include "codec/endian.h"
#include "codec/ipv4.h"
#include "runtime/eth.h"
#include "runtime/mbuf_view.h"
#include "runtime/spread.h"
#include "runtime/state.h"

namespace mipvpn {

namespace {

struct Loop {
  Worker& w;
  WorkerScratch& s;
  const Shared& sh;
  BurstCounts bc;
  uint16_t n_punt = 0;
  uint16_t n_resolve = 0;
  uint16_t n_dead = 0;

  void kill(rte_mbuf* m, RtDrop why) noexcept {
    bc.drop(why);
    s.dead[n_dead++] = m;
    if (n_dead == kMaxBurst) flush_dead();
  }
  void flush_dead() noexcept {
    if (n_dead) rte_pktmbuf_free_bulk(s.dead.data(), n_dead);
    n_dead = 0;
  }
  /* Not every PMD sets mbuf->port (net_ring does not): set it here.
   * m is at L3 (IPv4, its header checked by the stages): one source over
   * its rate loses its punts here, not everyone's in the ring. */
  void punt(rte_mbuf* m, uint32_t type, uint16_t port) noexcept {
    /* The stages punt IPv4 they parsed (pipeline.h); a shorter one
     * polices as source 0. */
    const uint32_t src =
        m->data_len >= kIpv4HdrLen ? load_be32(rte_pktmbuf_mtod_offset(m, const std::byte*, 12)) : 0;
    if (!w.police.admit(src, rte_rdtsc())) {
      kill(m, RtDrop::kPuntPoliced);
      return;
    }
    m->packet_type = type;
    m->port = sh.port_id[port];
    s.punt[n_punt++] = m;
    if (n_punt == kMaxBurst) flush_punt();
  }
  void flush_punt() noexcept {
    if (!n_punt) return;
    const unsigned k = rte_ring_sp_enqueue_burst(w.punt, reinterpret_cast<void* const*>(s.punt.data()),
                                                 n_punt, nullptr);
    bc.punted += k;
    for (unsigned i = k; i < n_punt; ++i) kill(s.punt[i], RtDrop::kPuntFull);
    n_punt = 0;
  }

  /* To the control thread's ARP work (runtime/neigh.cc): m->port is the
   * port index here. */
  void to_resolve(rte_mbuf* m, uint32_t type, uint16_t port) noexcept {
    m->packet_type = type;
    m->port = port;
    s.resolve[n_resolve++] = m;
    if (n_resolve == kMaxBurst) flush_resolve();
  }
  void flush_resolve() noexcept {
    if (!n_resolve) return;
    const unsigned k = rte_ring_sp_enqueue_burst(
        w.resolve, reinterpret_cast<void* const*>(s.resolve.data()), n_resolve, nullptr);
    bc.punted += k;
    for (unsigned i = k; i < n_resolve; ++i) kill(s.resolve[i], RtDrop::kResolveFull);
    n_resolve = 0;
  }

  /* Ethernet in: keeps IPv4 (stripped to L3) in m[0..k), hands ARP to the
   * control thread, drops the rest. Returns k. */
  uint16_t eth_in(rte_mbuf** m, uint16_t n, uint16_t port) noexcept {
    const MacAddr& ours = sh.mac[port];
    uint16_t k = 0;
    for (uint16_t i = 0; i < n; ++i) {
      rte_mbuf* mb = m[i];
      if (mb->nb_segs != 1) {
        kill(mb, RtDrop::kMultiSeg);
        continue;
      }
      PktView v = mbuf_to_view(mb);
      switch (eth_rx(v, ours)) {
        case EthRxKind::kIpv4:
          view_to_mbuf(v, mb);
          m[k++] = mb;
          break;
        case EthRxKind::kArp: to_resolve(mb, kResolveTypeArp, port); break;
        case EthRxKind::kRunt: kill(mb, RtDrop::kRunt); break;
        case EthRxKind::kNotForUs: kill(mb, RtDrop::kNotForUs); break;
        case EthRxKind::kVlan: kill(mb, RtDrop::kVlan); break;
        case EthRxKind::kEtherType: kill(mb, RtDrop::kEtherType); break;
      }
    }
    return k;
  }

  /* Worker 0 on a single-queue port: keep its own share in m[0..k), send
   * the others' to their rings. Returns k. */
  uint16_t spread(rte_mbuf** m, uint16_t n, uint16_t port) noexcept {
    const unsigned nw = sh.n_workers;
    uint16_t k = 0;
    for (uint16_t i = 0; i < n; ++i) {
      const PktView v = mbuf_to_view(m[i]);
      const uint32_t t = spread_worker(v, nw);
      if (t == 0) {
        m[k++] = m[i];
      } else {
        w.spread_buf[t][w.spread_n[t]++] = m[i];
      }
    }
    for (unsigned t = 1; t < nw; ++t) {
      const uint16_t c = w.spread_n[t];
      if (!c) continue;
      rte_ring* r = sh.spread[port * nw + t];
      const unsigned sent = rte_ring_sp_enqueue_burst(
          r, reinterpret_cast<void* const*>(w.spread_buf[t].data()), c, nullptr);
      bc.spread += sent;
      for (unsigned i = sent; i < c; ++i) kill(w.spread_buf[t][i], RtDrop::kSpreadFull);
      w.spread_n[t] = 0;
    }
    return k;
  }

  /* IPv4 packets m[0..n) from port index `port` through the pipeline and out. */
  void l3(rte_mbuf** m, uint16_t n, uint16_t port) noexcept {
    if (!n) return;
    /* The tables as of this burst: the control thread frees a replaced
     * one only after our next rte_rcu_qsbr_quiescent(). */
    std::array<const NeighbourTable*, kMaxPorts> nt;
    for (uint16_t p = 0; p < sh.n_ports; ++p) nt[p] = sh.neigh[p].load(std::memory_order_acquire);
    for (uint16_t i = 0; i < n; ++i) {
      s.views[i] = mbuf_to_view(m[i]);
      s.views[i].user = kVerdictDrop;
      s.view_ptrs[i] = &s.views[i];
      s.next_hop[i] = Ipv4Addr{};
    }
    w.pipeline->process(s.view_ptrs.data(), n, port, s.next_hop.data());
    /* Packets of a burst mostly share their next hop: the last answer
     * is kept for the burst (the tables above stay the same). */
    uint16_t last_port = kVerdictFirstSpecial;
    Ipv4Addr last_nh;
    const NeighbourEntry* last_ne = nullptr;
    for (uint16_t i = 0; i < n; ++i) {
      rte_mbuf* mb = m[i];
      PktView& v = s.views[i];
      const uint16_t verdict = v.user;
      if (verdict < kVerdictFirstSpecial) {
        if (verdict >= sh.n_ports) {
          kill(mb, RtDrop::kBadOutPort);
          continue;
        }
        /* Next hop 0.0.0.0: directly connected, resolve the destination. */
        Ipv4Addr nh = s.next_hop[i];
        if (nh.host() == 0 && v.data_len >= 20) nh = Ipv4Addr(load_be32(v.data() + 16));
        if (verdict != last_port || nh != last_nh) {
          last_port = verdict;
          last_nh = nh;
          last_ne = nt[verdict]->find(nh);
        }
        const NeighbourEntry* ne = last_ne;
        if (!ne) {
          /* RFC 1122 2.3.2.2: not dropped; held by the control thread
           * while it resolves the next hop. */
          view_to_mbuf(v, mb);
          mb->hash.usr = nh.host();
          to_resolve(mb, kResolveTypeIpv4, verdict);
          continue;
        }
        if (ne->failed) {
          kill(mb, RtDrop::kNoNeighbour);
          continue;
        }
        if (!eth_tx_prepend(v, ne->mac, sh.mac[verdict], kEtherTypeIpv4)) {
          kill(mb, RtDrop::kNoHeadroom);
          continue;
        }
        view_to_mbuf(v, mb);
        s.tx[verdict][s.tx_n[verdict]++] = mb;
      } else if (verdict == kVerdictPunt) {
        view_to_mbuf(v, mb);
        punt(mb, kPuntTypeIpv4, port);
      } else if (verdict == kVerdictDrop) {
        const size_t slot = v.drop < kStageDropSlots ? v.drop : kStageDropSlots - 1;
        WorkerCounters::add(w.counters->stage_drops[slot], 1);
        kill(mb, RtDrop::kPipeline);
      } else {
        kill(mb, RtDrop::kBadOutPort); /* a special verdict nobody defined */
      }
    }
    /* One TX queue per worker per port (queue index = worker id). */
    for (uint16_t p = 0; p < sh.n_ports; ++p) {
      const uint16_t c = s.tx_n[p];
      if (!c) continue;
      const uint16_t sent = rte_eth_tx_burst(sh.port_id[p], static_cast<uint16_t>(w.id),
                                             s.tx[p].data(), c);
      bc.tx += sent;
      for (uint16_t i = sent; i < c; ++i) kill(s.tx[p][i], RtDrop::kTxFull);
      s.tx_n[p] = 0;
    }
  }

  /* One pass over every source. Returns the packets seen. */
  uint32_t once() noexcept {
    uint32_t seen = 0;
    rte_mbuf** m = s.mbufs.data();
    for (const RxSource& src : w.rx) {
      uint16_t n;
      if (src.ring) {
        n = static_cast<uint16_t>(rte_ring_sc_dequeue_burst(
            src.ring, reinterpret_cast<void**>(m), kRxBurst, nullptr));
        seen += n;
      } else {
        n = rte_eth_rx_burst(src.port_id, src.queue, m, kRxBurst);
        seen += n;
        bc.rx += n;
        n = eth_in(m, n, src.port);
        if (src.spread) n = spread(m, n, src.port);
      }
      l3(m, n, src.port);
    }
    flush_punt();
    flush_resolve();
    flush_dead();
    bc.flush(*w.counters);
    return seen;
  }
};

}  // namespace

int worker_main(void* arg) {
  Worker& w = *static_cast<Worker*>(arg);
  const Shared& sh = *w.sh;
  rte_rcu_qsbr_thread_register(sh.qsbr, w.id);
  rte_rcu_qsbr_thread_online(sh.qsbr, w.id);
  Loop loop{.w = w, .s = *w.scratch, .sh = sh, .bc = {}};
  WorkerCounters& wc = *w.counters;
  /* One TSC read per iteration: an iteration that received counts as
   * busy from the end of the previous one to its own end. */
  uint64_t t0 = rte_rdtsc();
  while (!sh.stop.load(std::memory_order_relaxed)) {
    const uint32_t seen = loop.once();
    rte_rcu_qsbr_quiescent(sh.qsbr, w.id);
    if (sh.hook) sh.hook(w.id, sh.hook_ctx);
    const uint64_t t1 = rte_rdtsc();
    WorkerCounters::add(wc.polls, 1);
    if (seen) {
      WorkerCounters::add(wc.busy_cycles, t1 - t0);
      WorkerCounters::add(wc.busy_polls, 1);
      t0 = t1;
    } else if (sh.idle_sleep_us) {
      rte_delay_us_sleep(sh.idle_sleep_us);
      t0 = rte_rdtsc();
    } else {
      t0 = t1;
    }
  }
  rte_rcu_qsbr_thread_offline(sh.qsbr, w.id);
  rte_rcu_qsbr_thread_unregister(sh.qsbr, w.id);
  return 0;
}

}  // namespace mipvpn
