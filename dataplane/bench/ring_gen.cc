/* SPDX-License-Identifier: BSD-3-Clause */
/* The worker-loop scenarios' generator, ports and EAL (ring_gen.h). */
#include "ring_gen.h"

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_eth_ring.h>
#include <rte_mbuf.h>
#include <rte_ring.h>
#include <sched.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <system_error>

#include "runtime/eal.h"
#include "stages/drop.h"
#include "tsc.h"

namespace mipvpn::bench {

void eal_up(unsigned workers, uint32_t frame_room_mb) {
  cpu_set_t set;
  CPU_ZERO(&set);
  std::vector<int> cpus;
  if (sched_getaffinity(0, sizeof(set), &set) == 0)
    for (int c = 0; c < CPU_SETSIZE; ++c)
      if (CPU_ISSET(c, &set)) cpus.push_back(c);
  if (cpus.empty()) cpus.push_back(0);
  /* Main lcore (the generator) on the first CPU, worker k on CPU k mod n:
   * with 2 CPUs and 1 worker each has its own. */
  std::string lc = "--lcores=0@";
  lc += std::to_string(cpus[0]);
  for (unsigned w = 1; w <= workers; ++w) {
    lc += ',';
    lc += std::to_string(w);
    lc += '@';
    lc += std::to_string(cpus[w % cpus.size()]);
  }
  const std::vector<std::string> args = {
      "--no-huge", "-m", std::to_string(frame_room_mb), "--no-pci", "--no-telemetry",
      "--file-prefix=mipvpn-bench" + std::to_string(getpid()), lc, "--log-level=*:error"};
  if (RtStatus st = eal_init(args); !st.ok()) throw std::runtime_error(st.error);
}

/* EAL leaves its runtime directory (/var/run/dpdk/PREFIX) behind; a file
 * prefix per process would pile them up run after run. */
EalGuard::EalGuard() : dir(rte_eal_get_runtime_dir()) {}

EalGuard::~EalGuard() {
  eal_cleanup();
  std::error_code ec;
  if (dir.find("mipvpn-bench") != std::string::npos) std::filesystem::remove_all(dir, ec);
}

/* A benchmark that drops measures the wrong thing: say what. */
void report_drops(const RtCounts& c) {
  if (c.punted)
    std::fprintf(stderr, "mipvpn-bench: punted %llu to the control thread\n",
                 static_cast<unsigned long long>(c.punted));
  for (size_t i = 0; i < kRtDropCount; ++i)
    if (c.drops[i])
      std::fprintf(stderr, "mipvpn-bench: runtime dropped %llu: %s\n",
                   static_cast<unsigned long long>(c.drops[i]),
                   std::string(to_string(static_cast<RtDrop>(i))).c_str());
  for (size_t i = 0; i < kStageDropSlots; ++i)
    if (c.stage_drops[i])
      std::fprintf(stderr, "mipvpn-bench: stages dropped %llu: %s\n",
                   static_cast<unsigned long long>(c.stage_drops[i]),
                   i < static_cast<size_t>(StageDrop::kCount)
                       ? std::string(to_string(static_cast<StageDrop>(i))).c_str()
                       : "other");
}


void on_quiescent(unsigned worker, void* ctx) noexcept {
  auto& t = *static_cast<WorkerThreads*>(ctx);
  if (worker < t.known.size() && !t.known[worker].load(std::memory_order_relaxed)) {
    t.tid[worker] = pthread_self();
    t.known[worker].store(true, std::memory_order_release);
  }
}

/* Nanoseconds of CPU the workers got so far, all together. */
uint64_t workers_cpu_ns(const WorkerThreads& t, unsigned workers) {
  uint64_t ns = 0;
  for (unsigned w = 0; w < workers; ++w) {
    while (!t.known[w].load(std::memory_order_acquire)) sched_yield();
    clockid_t clk;
    timespec ts{};
    if (pthread_getcpuclockid(t.tid[w], &clk) != 0 || clock_gettime(clk, &ts) != 0) return 0;
    ns += static_cast<uint64_t>(ts.tv_sec) * 1000000000u + static_cast<uint64_t>(ts.tv_nsec);
  }
  return ns;
}

void Gen::fill(rte_mbuf** m, uint32_t n) {
  const uint32_t t = static_cast<uint32_t>(f.len.size());
  for (uint32_t i = 0; i < n; ++i) {
    rte_mbuf* mb = m[i];
    mb->data_off = RTE_PKTMBUF_HEADROOM;
    const uint32_t len = f.len[next];
    std::memcpy(rte_pktmbuf_mtod(mb, void*), f.at(next), len);
    mb->data_len = static_cast<uint16_t>(len);
    mb->pkt_len = len;
    if (++next == t) next = 0;
  }
}

uint64_t Gen::round(uint64_t target, double hz, uint64_t* out) {
  rte_mbuf* m[kMaxBurst];
  uint64_t fed = 0, done = 0, replaced = 0;
  const uint64_t drops0 = rt.counts().total_drops();
  const uint64_t t0 = tsc_now();
  uint64_t last = t0;
  const auto count_every = static_cast<uint64_t>(hz / 10000);
  uint64_t next_count = 0;
  /* Fresh mbufs for frames not yet fed; fewer when the pool is short
   * (dropped mbufs may still sit in a worker's mempool cache). */
  auto feed_new = [&](uint64_t want) -> uint64_t {
    uint64_t put = 0;
    while (want) {
      const uint32_t k = static_cast<uint32_t>(std::min<uint64_t>(want, kMaxBurst));
      if (rte_pktmbuf_alloc_bulk(pool, m, k) != 0) break;
      fill(m, k);
      if (rte_ring_sp_enqueue_bulk(rx, reinterpret_cast<void* const*>(m), k, nullptr) != k)
        throw std::runtime_error("RX ring full");
      fed += k;
      put += k;
      want -= k;
    }
    return put;
  };
  feed_new(std::min<uint64_t>(target, kInflight));
  for (;;) {
    uint32_t got = 0;
    for (rte_ring* r : tx) {
      const uint32_t k = rte_ring_sc_dequeue_burst(r, reinterpret_cast<void**>(m), kMaxBurst, nullptr);
      if (!k) continue;
      got += k;
      const uint32_t again = static_cast<uint32_t>(std::min<uint64_t>(k, target - fed));
      if (again) {
        fill(m, again);
        if (rte_ring_sp_enqueue_bulk(rx, reinterpret_cast<void* const*>(m), again, nullptr) != again)
          throw std::runtime_error("RX ring full");
        fed += again;
      }
      if (again < k) rte_pktmbuf_free_bulk(m + again, k - again);
    }
    done += got;
    const uint64_t now = tsc_now();
    if (got) {
      last = now;
      if (done >= target) break;
      continue;
    }
    /* Nothing out: stop on SIGINT/SIGTERM (the workers have), else count
     * what the workers dropped (freed to our pool). The counters are
     * read at most every 100 us: they share cache lines the workers
     * write every loop, and reading them on every empty poll took the
     * lines away from the workers (a quarter of the generator's time,
     * and misses on the worker's side). */
    if (rt.stop_requested()) throw std::runtime_error("interrupted");
    if (now < next_count) continue;
    next_count = now + count_every;
    const uint64_t dropped = rt.counts().total_drops() - drops0;
    if (done + dropped >= target) break;
    if (dropped > replaced && fed < target) {
      const uint64_t k = feed_new(std::min<uint64_t>(dropped - replaced, target - fed));
      replaced += k;
      if (k) last = now;
    }
    if (static_cast<double>(now - last) > 5 * hz) { /* stuck: report what came out */
      const RtCounts c = rt.counts();
      std::fprintf(stderr, "mipvpn-bench: stuck for 5 s: fed %llu, out %llu; RX ring holds %u, pool has %u free; "
                   "workers received %llu, sent %llu, spread %llu\n", static_cast<unsigned long long>(fed), static_cast<unsigned long long>(done), rte_ring_count(rx), rte_mempool_avail_count(pool), static_cast<unsigned long long>(c.rx), static_cast<unsigned long long>(c.tx), static_cast<unsigned long long>(c.spread));
      break;
    }
  }
  *out = done;
  return tsc_now() - t0;
}

PortRings make_port(const std::string& name, unsigned workers) {
  PortRings p;
  p.rx = rte_ring_create((name + "_rx").c_str(), kRingSize, 0, RING_F_SP_ENQ | RING_F_SC_DEQ);
  for (unsigned q = 0; q <= workers; ++q)
    p.tx.push_back(rte_ring_create((name + "_tx" + std::to_string(q)).c_str(), kRingSize, 0,
                                   RING_F_SP_ENQ | RING_F_SC_DEQ));
  if (!p.rx || std::find(p.tx.begin(), p.tx.end(), nullptr) != p.tx.end())
    throw std::runtime_error("rings for " + name + ": " + rte_strerror(rte_errno));
  if (rte_eth_from_rings(name.c_str(), &p.rx, 1, p.tx.data(), static_cast<unsigned>(p.tx.size()), 0) < 0)
    throw std::runtime_error("rte_eth_from_rings(" + name + "): " + rte_strerror(rte_errno));
  return p;
}

void free_port(PortRings& p) {
  rte_ring_free(p.rx);
  for (rte_ring* r : p.tx) rte_ring_free(r);
}

rte_mempool* make_pool(uint32_t n) {
  rte_mempool* mp = rte_pktmbuf_pool_create("bench_gen", n, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE, 0);
  if (!mp) throw std::runtime_error(std::string("generator pool: ") + rte_strerror(rte_errno));
  return mp;
}

void free_pool(rte_mempool* mp) { rte_mempool_free(mp); }

}  // namespace mipvpn::bench
