/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Shared by the runtime tests: EAL once per test process (a gtest
 * Environment), frames built with our codecs, ports made from our own
 * rte_rings (net_ring), and a trivial Pipeline:
 *   from port 0: UDP to port 434 -> punt; ICMP -> drop (reason 7);
 *                anything else -> port 1, next hop = IPv4 destination
 *                (left 0.0.0.0 for TCP: connected);
 *   from any other port: drop (reason 1).
 */
#pragma once

#include <gtest/gtest.h>
#include <rte_eth_ring.h>
#include <rte_mbuf.h>
#include <rte_ring.h>
#include <sched.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "codec/ipv4.h"
#include "codec/udp.h"
#include "runtime/eal.h"
#include "runtime/eth.h"
#include "runtime/runtime.h"

namespace mipvpn::rt_test {

using Bytes = std::vector<uint8_t>;

/* Main lcore and two workers, all on the first CPU we may use (the tests
 * must not need more CPUs than the machine has). */
inline std::string lcore_arg() {
  cpu_set_t set;
  CPU_ZERO(&set);
  int cpu = 0;
  if (sched_getaffinity(0, sizeof(set), &set) == 0)
    for (int c = 0; c < CPU_SETSIZE; ++c)
      if (CPU_ISSET(c, &set)) {
        cpu = c;
        break;
      }
  const std::string c = std::to_string(cpu);
  return "--lcores=0@" + c + ",1@" + c + ",2@" + c;
}

class EalEnv : public ::testing::Environment {
 public:
  explicit EalEnv(std::string prefix, std::vector<std::string> extra = {})
      : prefix_(std::move(prefix)), extra_(std::move(extra)) {}
  void SetUp() override {
    std::vector<std::string> args = {"--no-huge", "-m", "256", "--no-pci", "--no-telemetry",
                                     "--file-prefix=" + prefix_ + std::to_string(getpid()),
                                     lcore_arg(), "--log-level=*:warning"};
    args.insert(args.end(), extra_.begin(), extra_.end());
    const RtStatus st = eal_init(args);
    ASSERT_TRUE(st.ok()) << st.error;
    pool = rte_pktmbuf_pool_create("rt_test_pool", 4095, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, 0);
    ASSERT_NE(pool, nullptr);
  }
  void TearDown() override {
    rte_mempool_free(pool);
    eal_cleanup();
  }
  static inline rte_mempool* pool = nullptr;

 private:
  std::string prefix_;
  std::vector<std::string> extra_;
};

inline constexpr MacAddr kMac0{{0x02, 0, 0, 0, 0, 0x10}};
inline constexpr MacAddr kMac1{{0x02, 0, 0, 0, 0, 0x11}};
inline constexpr MacAddr kPeer{{0x02, 0, 0, 0, 0, 0x99}}; /* sender on port 0 */
inline constexpr MacAddr kNextHop{{0x02, 0, 0, 0, 0, 0x42}};
inline const Ipv4Addr kNhIp{10, 0, 1, 2};

inline Bytes eth(const MacAddr& dst, const MacAddr& src, uint16_t type, const Bytes& l3) {
  Bytes f(dst.b.begin(), dst.b.end());
  f.insert(f.end(), src.b.begin(), src.b.end());
  f.push_back(static_cast<uint8_t>(type >> 8));
  f.push_back(static_cast<uint8_t>(type));
  f.insert(f.end(), l3.begin(), l3.end());
  return f;
}

inline Bytes ipv4(Ipv4Addr src, Ipv4Addr dst, uint8_t proto, const Bytes& payload) {
  Bytes p(kIpv4HdrLen + payload.size());
  ipv4_build(std::as_writable_bytes(std::span(p)),
             Ipv4Build{.src = src, .dst = dst,
                       .total_len = static_cast<uint16_t>(p.size()), .id = 1, .proto = proto});
  std::memcpy(p.data() + kIpv4HdrLen, payload.data(), payload.size());
  return p;
}

inline Bytes udp(uint16_t sport, uint16_t dport, const Bytes& payload) {
  Bytes u(8 + payload.size());
  udp_build(std::as_writable_bytes(std::span(u)), sport, dport, static_cast<uint16_t>(u.size()));
  std::memcpy(u.data() + 8, payload.data(), payload.size());
  return u;
}

inline Bytes esp(uint32_t spi, uint32_t seq) {
  Bytes e(24, 0xab);
  for (int i = 0; i < 4; ++i) {
    e[i] = static_cast<uint8_t>(spi >> (24 - 8 * i));
    e[4 + i] = static_cast<uint8_t>(seq >> (24 - 8 * i));
  }
  return e;
}

inline rte_mbuf* to_mbuf(const Bytes& f) {
  rte_mbuf* m = rte_pktmbuf_alloc(EalEnv::pool);
  if (!m) return nullptr;
  char* d = rte_pktmbuf_append(m, static_cast<uint16_t>(f.size()));
  std::memcpy(d, f.data(), f.size());
  return m;
}

inline Bytes from_mbuf(const rte_mbuf* m) {
  const auto* d = rte_pktmbuf_mtod(m, const uint8_t*);
  return Bytes(d, d + m->data_len);
}

/* A net_ring port made from our own rings: 1 RX ring, n_tx TX rings. */
struct RingPort {
  std::string name;
  rte_ring* rx = nullptr;
  std::vector<rte_ring*> tx;
  uint16_t id = 0;

  static RingPort make(const std::string& tag, unsigned n_tx) {
    static unsigned seq = 0;
    RingPort p;
    const std::string base = tag + std::to_string(seq++);
    p.name = "net_ring_" + base;
    p.rx = rte_ring_create(("rx_" + base).c_str(), 1024, 0, RING_F_SP_ENQ | RING_F_SC_DEQ);
    for (unsigned i = 0; i < n_tx; ++i)
      p.tx.push_back(rte_ring_create(("tx" + std::to_string(i) + "_" + base).c_str(), 1024, 0,
                                     RING_F_SP_ENQ | RING_F_SC_DEQ));
    /* The ethdev is named "net_ring_" + the name given here. */
    const int id = rte_eth_from_rings(base.c_str(), &p.rx, 1, p.tx.data(), n_tx, 0);
    EXPECT_GE(id, 0) << "rte_eth_from_rings " << p.name;
    p.id = static_cast<uint16_t>(id < 0 ? 0 : id);
    return p;
  }
  void inject(const Bytes& f) const {
    rte_mbuf* m = to_mbuf(f);
    ASSERT_NE(m, nullptr);
    ASSERT_EQ(rte_ring_enqueue(rx, m), 0);
  }
  /* Every frame sent on TX queue q, in order; the mbufs are freed. */
  std::vector<Bytes> drain(unsigned q) const {
    std::vector<Bytes> out;
    void* v;
    while (rte_ring_dequeue(tx[q], &v) == 0) {
      auto* m = static_cast<rte_mbuf*>(v);
      out.push_back(from_mbuf(m));
      rte_pktmbuf_free(m);
    }
    return out;
  }
  void free_rings() {
    void* v;
    while (rte_ring_dequeue(rx, &v) == 0) rte_pktmbuf_free(static_cast<rte_mbuf*>(v));
    rte_ring_free(rx);
    for (auto* r : tx) {
      while (rte_ring_dequeue(r, &v) == 0) rte_pktmbuf_free(static_cast<rte_mbuf*>(v));
      rte_ring_free(r);
    }
  }
};

/* What each worker's pipeline saw of ESP: SPIs in arrival order. */
struct SeenLog {
  std::array<std::vector<uint32_t>, 4> spi;
  SeenLog() {
    for (auto& v : spi) v.reserve(8192);
  }
};

class TestPipeline final : public Pipeline {
 public:
  TestPipeline(unsigned worker, SeenLog* log) : worker_(worker), log_(log) {}
  void process(PktView* const* pkts, uint16_t n, uint16_t in_port,
               Ipv4Addr* next_hop) noexcept override {
    for (uint16_t i = 0; i < n; ++i) {
      PktView& p = *pkts[i];
      const std::byte* d = p.data();
      if (in_port != 0 || p.data_len < 28) {
        p.user = kVerdictDrop;
        p.drop = 1;
        continue;
      }
      const uint8_t proto = std::to_integer<uint8_t>(d[9]);
      const uint16_t dport = load_be16(d + 22);
      if (log_ && proto == kIpProtoEsp) log_->spi[worker_].push_back(load_be32(d + 20));
      if (log_ && proto == kIpProtoUdp && dport == kPortNatt && p.data_len >= 32)
        log_->spi[worker_].push_back(load_be32(d + 28));
      if (proto == kIpProtoUdp && dport == kPortMip) {
        p.user = kVerdictPunt;
      } else if (proto == kIpProtoIcmp) {
        p.user = kVerdictDrop;
        p.drop = 7;
      } else {
        p.user = 1;
        /* TCP: leave the next hop 0 (a connected route: the destination). */
        if (proto != 6) next_hop[i] = Ipv4Addr(load_be32(d + 16));
      }
    }
  }

 private:
  unsigned worker_;
  SeenLog* log_;
};

inline PipelineFactory test_factory(SeenLog* log = nullptr) {
  return [log](unsigned w) -> std::unique_ptr<Pipeline> {
    return std::make_unique<TestPipeline>(w, log);
  };
}

/* Wait (up to 5 s) until pred() holds. */
template <class F>
bool wait_for(F pred) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (std::chrono::steady_clock::now() < until) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return pred();
}

}  // namespace mipvpn::rt_test
