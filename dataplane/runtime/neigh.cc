/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The control thread's neighbour work: ARP in (answer requests for our
 * addresses, learn senders: RFC 826), resolution of the next hops the
 * workers could not send to (RFC 1122 2.3.2: requests, retries, held
 * packets), aging (runtime/arp_cache.h), and publication of a new
 * NeighbourTable per port by an atomic swap, the old one freed after an
 * rte_rcu_qsbr grace period. Workers never lock.
 */
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_rcu_qsbr.h>
#include <rte_ring.h>

#include <algorithm>

#include "runtime/arp.h"
#include "runtime/eth.h"
#include "runtime/mbuf_view.h"
#include "runtime/state.h"

namespace mipvpn {

namespace {

WorkerCounters& ctl_counters(Runtime::State& s) { return s.counters[s.sh.n_workers]; }

void ctl_drop(Runtime::State& s, rte_mbuf* m, RtDrop why) noexcept {
  WorkerCounters::add(ctl_counters(s).drops[static_cast<size_t>(why)], 1);
  rte_pktmbuf_free(m);
}

void bump(std::atomic<uint64_t>& c) noexcept {
  c.store(c.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
}

/* A complete frame out of port on the control TX queue. Consumes m. */
bool ctl_tx(Runtime::State& s, uint16_t port, rte_mbuf* m) noexcept {
  if (!s.ports[port].started) {
    ctl_drop(s, m, RtDrop::kBadOutPort);
    return false;
  }
  const auto q = static_cast<uint16_t>(s.sh.n_workers);
  if (rte_eth_tx_burst(s.ports[port].id, q, &m, 1) != 1) {
    ctl_drop(s, m, RtDrop::kTxFull);
    return false;
  }
  WorkerCounters::add(ctl_counters(s).tx, 1);
  return true;
}

/* IPv4 at the mbuf's data, to mac out of port. Consumes m. */
bool send_l3(Runtime::State& s, uint16_t port, rte_mbuf* m, const MacAddr& mac) noexcept {
  PktView v = mbuf_to_view(m);
  if (!eth_tx_prepend(v, mac, s.ports[port].mac, kEtherTypeIpv4)) {
    ctl_drop(s, m, RtDrop::kNoHeadroom);
    return false;
  }
  view_to_mbuf(v, m);
  return ctl_tx(s, port, m);
}

bool send_arp(Runtime::State& s, uint16_t port, const MacAddr& eth_dst, const ArpPkt& a) noexcept {
  rte_mbuf* m = rte_pktmbuf_alloc(s.ports[port].pool);
  if (!m) {
    WorkerCounters::add(ctl_counters(s).drops[static_cast<size_t>(RtDrop::kTxFull)], 1);
    return false;
  }
  PktView v = mbuf_to_view(m);
  v.data_len = static_cast<uint32_t>(
      arp_build(std::span(v.buf + v.data_off, v.buf_len - v.data_off), eth_dst, s.ports[port].mac, a));
  view_to_mbuf(v, m);
  return ctl_tx(s, port, m);
}

bool is_ours(const PortState& p, Ipv4Addr a) noexcept {
  const auto& v = p.spec.addresses;
  return std::find(v.begin(), v.end(), a) != v.end();
}

class PortSink final : public ArpSink {
 public:
  PortSink(Runtime::State& s, uint16_t port) : s_(s), port_(port) {}
  void arp_request(Ipv4Addr ip, const MacAddr* unicast) noexcept override {
    const PortState& p = s_.ports[port_];
    /* RFC 826 request: our addresses as sender, target hardware unknown
     * (or the address we are re-checking, RFC 1122 2.3.2.1). */
    const ArpPkt a{.op = kArpOpRequest,
                   .sha = p.mac,
                   .spa = p.spec.addresses.empty() ? Ipv4Addr{} : p.spec.addresses.front(),
                   .tha = unicast ? *unicast : MacAddr{},
                   .tpa = ip};
    if (send_arp(s_, port_, unicast ? *unicast : kMacBroadcast, a)) bump(s_.neigh.requests_sent);
  }
  void arp_release(void* pkt, const MacAddr& mac) noexcept override {
    last_ok = send_l3(s_, port_, static_cast<rte_mbuf*>(pkt), mac);
  }
  void arp_drop(void* pkt, RtDrop why) noexcept override {
    ctl_drop(s_, static_cast<rte_mbuf*>(pkt), why);
  }
  bool last_ok = false;

 private:
  Runtime::State& s_;
  uint16_t port_;
};

void handle_arp(Runtime::State& s, uint16_t port, rte_mbuf* m, uint64_t now) noexcept {
  NeighCtl& n = s.neigh;
  const PortState& p = s.ports[port];
  ArpPkt a;
  if (!arp_parse(mbuf_to_view(m).bytes(), a)) {
    ctl_drop(s, m, RtDrop::kArpBad);
    return;
  }
  const bool for_us = is_ours(p, a.tpa);
  if (a.op == kArpOpReply) bump(n.replies_received);
  else if (for_us) bump(n.requests_received);
  if (!for_us) bump(n.ignored);
  /* Learn from real senders only: not from probes (sender 0.0.0.0, RFC
   * 5227), not a multicast or our own hardware address, not our addresses. */
  const bool learnable = a.spa.host() != 0 && !a.sha.is_multicast() && !(a.sha == p.mac) &&
                         !is_ours(p, a.spa);
  PortSink sink(s, port);
  if (learnable) n.cache[port]->learn(a.spa, a.sha, for_us, now, sink);
  if (a.op == kArpOpRequest && for_us) {
    /* RFC 826: swap sender and target, our hardware address as sender. */
    const ArpPkt r{.op = kArpOpReply, .sha = p.mac, .spa = a.tpa, .tha = a.sha, .tpa = a.spa};
    if (send_arp(s, port, a.sha, r)) bump(n.replies_sent);
  }
  if (n.arp_out) {
    m->packet_type = kPuntTypeArp;
    m->port = p.id;
    if (rte_ring_sp_enqueue(n.arp_out, m) != 0) ctl_drop(s, m, RtDrop::kPuntFull);
    return;
  }
  rte_pktmbuf_free(m);
}

void publish(Runtime::State& s, uint16_t port) noexcept {
  NeighCtl& n = s.neigh;
  auto t = std::make_unique<NeighbourTable>();
  n.cache[port]->fill(*t);
  s.sh.neigh[port].store(t.get(), std::memory_order_release);
  std::unique_ptr<NeighbourTable> old = std::move(n.current[port]);
  n.current[port] = std::move(t);
  if (old) n.retired.push_back({std::move(old), rte_rcu_qsbr_start(s.sh.qsbr)});
}

void sync_stats(Runtime::State& s) noexcept {
  ArpCacheStats t;
  for (const auto& c : s.neigh.cache) {
    const ArpCacheStats& x = c->stats();
    t.learned += x.learned;
    t.failed += x.failed;
    t.held += x.held;
    t.released += x.released;
    t.evicted += x.evicted;
  }
  s.neigh.learned.store(t.learned, std::memory_order_relaxed);
  s.neigh.failed.store(t.failed, std::memory_order_relaxed);
  s.neigh.held.store(t.held, std::memory_order_relaxed);
  s.neigh.released.store(t.released, std::memory_order_relaxed);
  s.neigh.evicted.store(t.evicted, std::memory_order_relaxed);
}

}  // namespace

RtStatus neigh_build(Runtime::State& s) {
  NeighCtl& n = s.neigh;
  const RuntimeConfig& cfg = s.cfg;
  for (size_t i = 0; i < s.ports.size(); ++i) {
    n.cache.push_back(std::make_unique<ArpCache>(cfg.arp));
    n.current.emplace_back();
  }
  for (const NeighbourSpec& ns : cfg.neighbours) {
    if (ns.port >= s.ports.size())
      return RtStatus::fail("neighbour " + ns.ip.str() + ": no port index " + std::to_string(ns.port));
    if (!n.cache[ns.port]->add_static(ns.ip, ns.mac))
      return RtStatus::fail("neighbour " + ns.ip.str() + " on port '" + s.ports[ns.port].spec.name +
                            "': the table is full (" + std::to_string(ArpCache::kMaxEntries) +
                            " per port)");
  }
  for (size_t i = 0; i < s.ports.size(); ++i) publish(s, static_cast<uint16_t>(i));
  /* The clock service() reads, for send_ip() before the first service(). */
  n.now_ms = tsc_ms();
  n.retired.clear(); /* nothing published before: nothing to wait for */
  if (cfg.punt_arp) {
    const std::string name = "mv" + std::to_string(s.instance) + "_arpout";
    n.arp_out = rte_ring_create(name.c_str(), cfg.punt_ring_size, SOCKET_ID_ANY,
                                RING_F_SP_ENQ | RING_F_SC_DEQ);
    if (!n.arp_out) return RtStatus::fail("ring " + name + ": " + rte_strerror(rte_errno));
  }
  return {};
}

void neigh_service(Runtime::State& s, uint64_t now) noexcept {
  NeighCtl& n = s.neigh;
  if (n.cache.empty()) return;
  n.now_ms = now;
  std::array<void*, kRxBurst> b;
  for (auto& w : s.workers) {
    if (!w->resolve) continue;
    /* At most one ring's worth per call: the control thread stays responsive. */
    for (uint32_t got = 0; got < s.cfg.resolve_ring_size;) {
      const unsigned k = rte_ring_sc_dequeue_burst(w->resolve, b.data(), kRxBurst, nullptr);
      if (!k) break;
      got += k;
      for (unsigned i = 0; i < k; ++i) {
        auto* m = static_cast<rte_mbuf*>(b[i]);
        const uint16_t port = m->port;
        if (port >= s.ports.size()) {
          ctl_drop(s, m, RtDrop::kBadOutPort);
        } else if (m->packet_type == kResolveTypeArp) {
          handle_arp(s, port, m, now);
        } else {
          PortSink sink(s, port);
          n.cache[port]->resolve(Ipv4Addr(m->hash.usr), m, now, sink);
        }
      }
    }
  }
  for (size_t i = 0; i < n.cache.size(); ++i) {
    PortSink sink(s, static_cast<uint16_t>(i));
    n.cache[i]->tick(now, sink);
    if (n.cache[i]->dirty()) publish(s, static_cast<uint16_t>(i));
  }
  std::erase_if(n.retired, [&](const NeighCtl::Retired& r) {
    return rte_rcu_qsbr_check(s.sh.qsbr, r.token, false) == 1;
  });
  sync_stats(s);
}

bool neigh_send_ip(Runtime::State& s, rte_mbuf* m, uint16_t port, Ipv4Addr nh) noexcept {
  NeighCtl& n = s.neigh;
  const NeighbourEntry* e = n.current[port] ? n.current[port]->find(nh) : nullptr;
  if (e && e->failed) {
    ctl_drop(s, m, RtDrop::kNoNeighbour);
    return false;
  }
  if (e) return send_l3(s, port, m, e->mac);
  PortSink sink(s, port);
  const ArpCache::Resolve r = n.cache[port]->resolve(nh, m, n.now_ms, sink);
  sync_stats(s);
  return r == ArpCache::Resolve::kHeld || (r == ArpCache::Resolve::kSent && sink.last_ok);
}

void neigh_flush(Runtime::State& s) noexcept {
  NeighCtl& n = s.neigh;
  for (auto& w : s.workers) {
    if (!w->resolve) continue;
    void* v;
    while (rte_ring_dequeue(w->resolve, &v) == 0) rte_pktmbuf_free(static_cast<rte_mbuf*>(v));
  }
  for (size_t i = 0; i < n.cache.size(); ++i) {
    PortSink sink(s, static_cast<uint16_t>(i));
    n.cache[i]->flush(sink);
  }
  if (n.arp_out) {
    void* v;
    while (rte_ring_dequeue(n.arp_out, &v) == 0) rte_pktmbuf_free(static_cast<rte_mbuf*>(v));
  }
  if (!n.cache.empty()) sync_stats(s);
}

void neigh_free(Runtime::State& s) noexcept {
  NeighCtl& n = s.neigh;
  for (auto& a : s.sh.neigh) a.store(nullptr);
  n.current.clear();
  n.retired.clear();
  rte_ring_free(n.arp_out);
  n.arp_out = nullptr;
}

void neigh_counts(const Runtime::State& s, RtArpCounts& o) noexcept {
  const NeighCtl& n = s.neigh;
  auto rd = [](const std::atomic<uint64_t>& c) { return c.load(std::memory_order_relaxed); };
  o.requests_sent = rd(n.requests_sent);
  o.replies_sent = rd(n.replies_sent);
  o.requests_received = rd(n.requests_received);
  o.replies_received = rd(n.replies_received);
  o.ignored = rd(n.ignored);
  o.learned = rd(n.learned);
  o.failed = rd(n.failed);
  o.held = rd(n.held);
  o.released = rd(n.released);
  o.evicted = rd(n.evicted);
}

}  // namespace mipvpn
