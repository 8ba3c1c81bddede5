/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Runtime setup and teardown, and the control thread's calls.
 */
#include "runtime/runtime.h"

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_random.h>
#include <rte_rcu_qsbr.h>

#include <sched.h>

#include <csignal>
#include <cstring>

#include "runtime/eth.h"
#include "runtime/mbuf_view.h"
#include "runtime/state.h"

namespace mipvpn {

namespace {

/* Set from the signal handler: lock-free atomics only (async-signal-safe).
 * g_stop_target is the running runtime's worker stop flag, so that the
 * workers stop on the signal itself, whatever the control thread does. */
std::atomic<bool> g_signalled{false};
std::atomic<std::atomic<bool>*> g_stop_target{nullptr};
static_assert(std::atomic<bool>::is_always_lock_free);
static_assert(std::atomic<std::atomic<bool>*>::is_always_lock_free);
unsigned g_instances = 0;
struct sigaction g_old_int, g_old_term;
bool g_signals_set = false;

extern "C" void on_signal(int) {
  g_signalled.store(true, std::memory_order_relaxed);
  if (std::atomic<bool>* t = g_stop_target.load(std::memory_order_relaxed))
    t->store(true, std::memory_order_relaxed);
}

void catch_signals() {
  if (g_signals_set) return;
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, &g_old_int);
  sigaction(SIGTERM, &sa, &g_old_term);
  g_signals_set = true;
}

void release_signals() {
  if (!g_signals_set) return;
  sigaction(SIGINT, &g_old_int, nullptr);
  sigaction(SIGTERM, &g_old_term, nullptr);
  g_signals_set = false;
}

bool pow2(uint32_t v) { return v && !(v & (v - 1)); }

void free_ring_mbufs(rte_ring* r) {
  if (!r) return;
  void* m;
  while (rte_ring_dequeue(r, &m) == 0) rte_pktmbuf_free(static_cast<rte_mbuf*>(m));
}

/* Everything create() may have made, in reverse. */
void teardown(Runtime::State& s) noexcept {
  neigh_flush(s);
  for (auto& w : s.workers) free_ring_mbufs(w->punt);
  for (rte_ring* r : s.sh.spread) free_ring_mbufs(r);
  for (auto& p : s.ports) port_close(p);
  for (auto& w : s.workers) {
    rte_ring_free(w->punt);
    w->punt = nullptr;
    rte_ring_free(w->resolve);
    w->resolve = nullptr;
    w->pipeline.reset();
  }
  for (rte_ring*& r : s.sh.spread) {
    rte_ring_free(r);
    r = nullptr;
  }
  for (rte_mempool*& mp : s.pools) {
    rte_mempool_free(mp);
    mp = nullptr;
  }
  neigh_free(s);
  rte_free(s.sh.qsbr);
  s.sh.qsbr = nullptr;
}

RtStatus build(Runtime::State& s, const PipelineFactory& factory) {
  const RuntimeConfig& cfg = s.cfg;
  if (cfg.ports.empty()) return RtStatus::fail("no ports configured");
  if (cfg.ports.size() > kMaxPorts)
    return RtStatus::fail("at most " + std::to_string(kMaxPorts) + " ports, got " +
                          std::to_string(cfg.ports.size()));
  if (cfg.workers < 1) return RtStatus::fail("at least one worker is needed");
  if (!pow2(cfg.spread_ring_size) || !pow2(cfg.punt_ring_size) || !pow2(cfg.resolve_ring_size))
    return RtStatus::fail("spread_ring_size, punt_ring_size and resolve_ring_size must be "
                          "powers of two");
  if (rte_lcore_id() != rte_get_main_lcore())
    return RtStatus::fail("the runtime must be created on the EAL main lcore");

  /* Ports: find or create, then clamp workers to the TX queues offered. */
  s.ports.resize(cfg.ports.size());
  unsigned workers = cfg.workers;
  for (size_t i = 0; i < cfg.ports.size(); ++i) {
    PortState& p = s.ports[i];
    p.spec = cfg.ports[i];
    if (RtStatus st = port_resolve(p, s.notes); !st.ok()) return st;
    for (size_t j = 0; j < i; ++j)
      if (s.ports[j].id == p.id)
        return RtStatus::fail("ports '" + s.ports[j].spec.name + "' and '" + p.spec.name +
                              "' are the same device");
    const uint16_t mtx = port_max_tx_queues(p);
    if (mtx < 2)
      return RtStatus::fail("port '" + p.spec.name + "' (" + p.spec.device + ") offers " +
                            std::to_string(mtx) + " TX queue(s); the runtime needs one per "
                            "worker plus one for the control thread (at least 2)" +
                            (port_is_af_packet(p)
                                 ? "; give the device qpairs=" + std::to_string(workers + 1)
                                 : std::string()));
    if (mtx - 1u < workers) {
      s.notes.push_back("port '" + p.spec.name + "' (" + p.spec.device + ") offers " +
                        std::to_string(mtx) + " TX queues: workers clamped from " +
                        std::to_string(workers) + " to " + std::to_string(mtx - 1) +
                        " (one TX queue per worker plus one for the control thread)");
      workers = mtx - 1u;
    }
    const int sock = rte_eth_dev_socket_id(p.id);
    p.socket = sock < 0 ? 0 : sock;
    s.index_of_id[p.id] = static_cast<uint16_t>(i);
  }
  std::vector<unsigned> lcores;
  unsigned lc;
  RTE_LCORE_FOREACH_WORKER(lc) lcores.push_back(lc);
  if (lcores.size() < workers)
    return RtStatus::fail(std::to_string(workers) + " workers need as many EAL worker lcores; "
                          "EAL has " + std::to_string(lcores.size()) +
                          " (give more with -l or --lcores)");
  s.sh.n_workers = workers;
  s.sh.n_ports = static_cast<uint16_t>(s.ports.size());

  /* One mempool per socket in use, sized for every queue and ring. */
  std::vector<int> sockets;
  for (auto& p : s.ports)
    if (std::find(sockets.begin(), sockets.end(), p.socket) == sockets.end())
      sockets.push_back(p.socket);
  for (int sock : sockets) {
    uint32_t n = cfg.mbufs_per_socket;
    if (!n) {
      for (auto& p : s.ports)
        if (p.socket == sock)
          n += workers * (uint32_t{cfg.rx_desc} + cfg.spread_ring_size) +
               (workers + 1) * uint32_t{cfg.tx_desc};
      n += workers * (cfg.punt_ring_size + cfg.resolve_ring_size) +
           (workers + 1) * (2 * kMaxBurst + 384) +
           (cfg.punt_arp ? cfg.punt_ring_size : 0) +
           static_cast<uint32_t>(s.ports.size()) * ArpCache::kMaxEntries * ArpCache::kMaxHold;
    }
    const std::string name =
        "mipvpn" + std::to_string(s.instance) + "_s" + std::to_string(sock);
    rte_mempool* mp = rte_pktmbuf_pool_create(name.c_str(), n, 256, 0,
                                              RTE_MBUF_DEFAULT_BUF_SIZE, sock);
    if (!mp)
      return RtStatus::fail("mempool of " + std::to_string(n) + " mbufs on socket " +
                            std::to_string(sock) + ": " + rte_strerror(rte_errno) +
                            " (give EAL more memory with -m, or set mbufs_per_socket)");
    s.pools.push_back(mp);
    for (auto& p : s.ports)
      if (p.socket == sock) p.pool = mp;
  }
  for (auto& p : s.ports)
    if (RtStatus st = port_configure(p, cfg, workers, s.notes); !st.ok()) return st;
  for (size_t i = 0; i < s.ports.size(); ++i) {
    s.sh.port_id[i] = s.ports[i].id;
    s.sh.mac[i] = s.ports[i].mac;
  }

  /* Software spread rings: worker 0 -> worker w, per single-queue port. */
  s.sh.spread.assign(s.ports.size() * workers, nullptr);
  for (size_t i = 0; i < s.ports.size(); ++i) {
    if (s.ports[i].rss || workers < 2) continue;
    for (unsigned w = 1; w < workers; ++w) {
      const std::string name = "mv" + std::to_string(s.instance) + "_sp" + std::to_string(i) +
                               "_" + std::to_string(w);
      rte_ring* r = rte_ring_create(name.c_str(), cfg.spread_ring_size, s.ports[i].socket,
                                    RING_F_SP_ENQ | RING_F_SC_DEQ);
      if (!r) return RtStatus::fail("ring " + name + ": " + rte_strerror(rte_errno));
      s.sh.spread[i * workers + w] = r;
    }
  }

  /* QSBR: one thread id per worker. */
  const size_t qsz = rte_rcu_qsbr_get_memsize(workers);
  s.sh.qsbr = static_cast<rte_rcu_qsbr*>(rte_zmalloc("mipvpn_qsbr", qsz, RTE_CACHE_LINE_SIZE));
  if (!s.sh.qsbr || rte_rcu_qsbr_init(s.sh.qsbr, workers) != 0)
    return RtStatus::fail("QSBR variable for " + std::to_string(workers) + " workers: no memory");
  s.sh.idle_sleep_us = cfg.worker_idle_sleep_us;
  /* Static neighbours and the first tables (needs the QSBR variable). */
  if (RtStatus st = neigh_build(s); !st.ok()) return st;

  s.counters = std::make_unique<WorkerCounters[]>(workers + 1);
  for (unsigned w = 0; w < workers; ++w) {
    auto wk = std::make_unique<Worker>();
    wk->id = w;
    wk->lcore = lcores[w];
    wk->sh = &s.sh;
    wk->counters = &s.counters[w];
    wk->scratch = std::make_unique<WorkerScratch>();
    wk->spread_buf.resize(workers);
    wk->spread_n.assign(workers, 0);
    const std::string name = "mv" + std::to_string(s.instance) + "_punt" + std::to_string(w);
    wk->punt = rte_ring_create(name.c_str(), cfg.punt_ring_size,
                               static_cast<int>(rte_lcore_to_socket_id(wk->lcore)),
                               RING_F_SP_ENQ | RING_F_SC_DEQ);
    if (!wk->punt) return RtStatus::fail("ring " + name + ": " + rte_strerror(rte_errno));
    wk->police.init(cfg.punt_police, rte_get_tsc_hz(), static_cast<uint32_t>(rte_rand()));
    const std::string rname = "mv" + std::to_string(s.instance) + "_res" + std::to_string(w);
    wk->resolve = rte_ring_create(rname.c_str(), cfg.resolve_ring_size,
                                  static_cast<int>(rte_lcore_to_socket_id(wk->lcore)),
                                  RING_F_SP_ENQ | RING_F_SC_DEQ);
    if (!wk->resolve) return RtStatus::fail("ring " + rname + ": " + rte_strerror(rte_errno));
    for (size_t i = 0; i < s.ports.size(); ++i) {
      const PortState& p = s.ports[i];
      const auto pi = static_cast<uint16_t>(i);
      if (p.rss)
        wk->rx.push_back({.port = pi, .port_id = p.id, .queue = static_cast<uint16_t>(w)});
      else if (w == 0)
        for (uint16_t q = 0; q < p.nb_rxq; ++q)
          wk->rx.push_back({.port = pi, .port_id = p.id, .queue = q, .spread = workers > 1});
      else
        wk->rx.push_back({.port = pi, .ring = s.sh.spread[i * workers + w]});
    }
    wk->pipeline = factory(w);
    if (!wk->pipeline) return RtStatus::fail("the pipeline factory gave nothing for worker " +
                                             std::to_string(w));
    s.workers.push_back(std::move(wk));
  }
  return {};
}

}  // namespace

Runtime::Runtime(std::unique_ptr<State> s) : s_(std::move(s)) {}

RuntimeOrError Runtime::create(const RuntimeConfig& cfg, const PipelineFactory& factory) {
  auto st = std::make_unique<State>();
  st->cfg = cfg;
  st->instance = g_instances++;
  RtStatus r = build(*st, factory);
  std::unique_ptr<Runtime> rt(new Runtime(std::move(st)));
  if (!r.ok()) return {nullptr, r.error}; /* ~Runtime tears down what was built */
  return {std::move(rt), {}};
}

Runtime::~Runtime() {
  stop();
  teardown(*s_);
}

RtStatus Runtime::start(QuiescentHook hook, void* hook_ctx) {
  State& s = *s_;
  if (s.started) return RtStatus::fail("the runtime is already started");
  s.sh.hook = hook;
  s.sh.hook_ctx = hook_ctx;
  s.sh.stop.store(false);
  for (auto& p : s.ports)
    if (RtStatus st = port_start(p); !st.ok()) return st;
  if (s.cfg.catch_signals) {
    g_signalled.store(false);
    g_stop_target.store(&s.sh.stop);
    catch_signals();
  }
  s.started = true;
  for (auto& w : s.workers) {
    const int rc = rte_eal_remote_launch(worker_main, w.get(), w->lcore);
    if (rc != 0) {
      stop();
      return RtStatus::fail("lcore " + std::to_string(w->lcore) + " is busy; worker " +
                            std::to_string(w->id) + " did not start");
    }
    w->launched = true;
  }
  return {};
}

void Runtime::stop() noexcept {
  State& s = *s_;
  if (!s.started || s.stopped) return;
  s.sh.stop.store(true);
  for (auto& w : s.workers)
    if (w->launched) rte_eal_wait_lcore(w->lcore);
  for (auto& w : s.workers) w->launched = false;
  if (s.cfg.catch_signals) {
    release_signals();
    g_stop_target.store(nullptr);
  }
  for (auto& w : s.workers) free_ring_mbufs(w->punt);
  for (rte_ring* r : s.sh.spread) free_ring_mbufs(r);
  for (auto& p : s.ports) port_close(p);
  neigh_flush(s); /* held packets: their ports are closed */
  s.stopped = true;
}

void Runtime::request_stop() noexcept { s_->sh.stop.store(true); }

bool Runtime::stop_requested() const noexcept {
  return s_->sh.stop.load(std::memory_order_relaxed) || g_signalled.load(std::memory_order_relaxed);
}

void Runtime::run(const std::function<void(Runtime&)>& tick) {
  while (!stop_requested()) {
    s_->punts_busy = false;
    service();
    tick(*this);
    /* Punts waiting (a registration burst, a flood): no pause, so the
     * rings drain as fast as the control thread can answer; a yield, so
     * that a worker sharing this CPU (floating lcores) still runs. */
    if (!s_->cfg.control_sleep_us) continue;
    if (s_->punts_busy)
      sched_yield();
    else
      rte_delay_us_sleep(s_->cfg.control_sleep_us);
  }
  s_->sh.stop.store(true); /* a signal stops the workers too */
}

void Runtime::service() noexcept {
  service(tsc_ms());
}

void Runtime::service(uint64_t now_ms) noexcept {
  if (s_->stopped) return;
  neigh_service(*s_, now_ms);
}

std::optional<MacAddr> Runtime::neighbour(uint16_t port, Ipv4Addr ip) const noexcept {
  if (port >= s_->neigh.current.size() || !s_->neigh.current[port]) return std::nullopt;
  const MacAddr* m = s_->neigh.current[port]->lookup(ip);
  if (!m) return std::nullopt;
  return *m;
}

NeighState Runtime::neighbour_state(uint16_t port, Ipv4Addr ip) const noexcept {
  if (port >= s_->neigh.cache.size()) return NeighState::kFree;
  const ArpCache::Entry* e = s_->neigh.cache[port]->find(ip);
  return e ? e->state : NeighState::kFree;
}

uint16_t Runtime::poll_punts(CtlPkt* out, uint16_t max) noexcept {
  State& s = *s_;
  uint16_t n = 0;
  while (s.neigh.arp_out && n < max) {
    void* v;
    if (rte_ring_sc_dequeue(s.neigh.arp_out, &v) != 0) break;
    auto* m = static_cast<rte_mbuf*>(v);
    CtlPkt& c = out[n++];
    c.mbuf = m;
    c.view = mbuf_to_view(m);
    c.arp = true;
    c.port = s.index_of_id[m->port];
  }
  /* Start at the next worker each call: a ring kept full by a flood on
   * one worker never starves the others'. */
  const size_t nw = s.workers.size();
  const size_t first = nw ? s.punt_next++ % nw : 0;
  for (size_t k = 0; k < nw; ++k) {
    Worker* w = s.workers[(first + k) % nw].get();
    while (n < max) {
      void* v;
      if (rte_ring_sc_dequeue(w->punt, &v) != 0) break;
      auto* m = static_cast<rte_mbuf*>(v);
      CtlPkt& c = out[n++];
      c.mbuf = m;
      c.view = mbuf_to_view(m);
      c.arp = m->packet_type == kPuntTypeArp;
      c.port = m->port < s.index_of_id.size() ? s.index_of_id[m->port] : 0;
    }
  }
  if (n == max) s.punts_busy = true;
  return n;
}

CtlPkt Runtime::alloc(uint16_t port) noexcept {
  CtlPkt c;
  if (port >= s_->ports.size()) return c;
  rte_mbuf* m = rte_pktmbuf_alloc(s_->ports[port].pool);
  if (!m) return c;
  c.mbuf = m;
  c.view = mbuf_to_view(m);
  c.port = port;
  return c;
}

void Runtime::free(CtlPkt& pkt) noexcept {
  rte_pktmbuf_free(pkt.mbuf);
  pkt.mbuf = nullptr;
}

bool Runtime::send_frame(CtlPkt& pkt, uint16_t port) noexcept {
  State& s = *s_;
  WorkerCounters& c = s.counters[s.sh.n_workers];
  if (!pkt.mbuf) return false;
  if (port >= s.ports.size() || !s.ports[port].started) {
    WorkerCounters::add(c.drops[static_cast<size_t>(RtDrop::kBadOutPort)], 1);
    free(pkt);
    return false;
  }
  view_to_mbuf(pkt.view, pkt.mbuf);
  rte_mbuf* m = pkt.mbuf;
  pkt.mbuf = nullptr;
  const auto ctl_q = static_cast<uint16_t>(s.sh.n_workers);
  if (rte_eth_tx_burst(s.ports[port].id, ctl_q, &m, 1) != 1) {
    WorkerCounters::add(c.drops[static_cast<size_t>(RtDrop::kTxFull)], 1);
    rte_pktmbuf_free(m);
    return false;
  }
  WorkerCounters::add(c.tx, 1);
  return true;
}

bool Runtime::send_ip(CtlPkt& pkt, uint16_t port, Ipv4Addr next_hop) noexcept {
  State& s = *s_;
  WorkerCounters& c = s.counters[s.sh.n_workers];
  if (!pkt.mbuf) return false;
  RtDrop why = RtDrop::kBadOutPort;
  if (port < s.ports.size() && s.ports[port].started) {
    view_to_mbuf(pkt.view, pkt.mbuf);
    rte_mbuf* m = pkt.mbuf;
    pkt.mbuf = nullptr;
    return neigh_send_ip(s, m, port, next_hop);
  }
  WorkerCounters::add(c.drops[static_cast<size_t>(why)], 1);
  free(pkt);
  return false;
}

RtCounts Runtime::counts() const noexcept {
  RtCounts r;
  for (unsigned w = 0; w <= s_->sh.n_workers && s_->counters; ++w) s_->counters[w].add_to(r);
  neigh_counts(*s_, r.arp);
  return r;
}

RtCounts Runtime::worker_counts(unsigned worker) const noexcept {
  RtCounts r;
  if (worker < s_->sh.n_workers) s_->counters[worker].add_to(r);
  return r;
}

uint64_t Runtime::tsc_hz() const noexcept { return rte_get_tsc_hz(); }
unsigned Runtime::workers() const noexcept { return s_->sh.n_workers; }
uint16_t Runtime::ports() const noexcept { return s_->sh.n_ports; }
uint16_t Runtime::port_id(uint16_t port) const noexcept { return s_->ports[port].id; }
const MacAddr& Runtime::port_mac(uint16_t port) const noexcept { return s_->ports[port].mac; }
bool Runtime::port_rss(uint16_t port) const noexcept { return s_->ports[port].rss; }
const std::vector<std::string>& Runtime::notes() const noexcept { return s_->notes; }
rte_rcu_qsbr* Runtime::qsbr() const noexcept { return s_->sh.qsbr; }
uint64_t Runtime::rcu_start() noexcept { return rte_rcu_qsbr_start(s_->sh.qsbr); }
bool Runtime::rcu_check(uint64_t token) noexcept {
  return rte_rcu_qsbr_check(s_->sh.qsbr, token, false) == 1;
}
void Runtime::rcu_synchronize() noexcept {
  rte_rcu_qsbr_synchronize(s_->sh.qsbr, RTE_QSBR_THRID_INVALID);
}

}  // namespace mipvpn
