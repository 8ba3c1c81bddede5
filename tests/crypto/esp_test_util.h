/* SPDX-License-Identifier: BSD-3-Clause */
/* Helpers shared by the ESP engine tests: packet buffers, inner packets, SA pairs. */
#pragma once

#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "codec/ipv4.h"
#include "crypto/esp.h"

namespace mipvpn::test {

/* A packet buffer with head- and tailroom, like an mbuf. */
struct TestPkt {
  std::vector<std::byte> mem;
  PktView v;

  TestPkt(const std::vector<uint8_t>& data, uint32_t headroom = 128, uint32_t tailroom = 128)
      : mem(headroom + data.size() + tailroom) {
    std::memcpy(mem.data() + headroom, data.data(), data.size());
    v.buf = mem.data();
    v.buf_len = static_cast<uint32_t>(mem.size());
    v.data_off = headroom;
    v.data_len = static_cast<uint32_t>(data.size());
  }
  TestPkt(const TestPkt& o) : mem(o.mem), v(o.v) { v.buf = mem.data(); }
  TestPkt& operator=(const TestPkt& o) {
    if (this != &o) {
      mem = o.mem;
      v = o.v;
      v.buf = mem.data();
    }
    return *this;
  }
  std::vector<uint8_t> bytes() const {
    const auto* p = reinterpret_cast<const uint8_t*>(v.data());
    return {p, p + v.data_len};
  }
  uint8_t* data() { return reinterpret_cast<uint8_t*>(v.data()); }
};

/* An inner IPv4/UDP datagram of total length len (>= 20) with a payload
 * drawn from seed; TOS and DF as given. */
inline std::vector<uint8_t> make_inner(uint32_t len, uint32_t seed, uint8_t tos = 0, bool df = true) {
  std::vector<uint8_t> p(len);
  std::mt19937 rng(seed);
  for (auto& b : p) b = static_cast<uint8_t>(rng());
  Ipv4Build b;
  b.src = Ipv4Addr(10, 1, 0, 1);
  b.dst = Ipv4Addr(10, 2, 0, 1);
  b.total_len = static_cast<uint16_t>(len);
  b.id = static_cast<uint16_t>(seed);
  b.proto = kIpProtoUdp;
  b.tos = tos;
  b.df = df;
  ipv4_build(bytes(reinterpret_cast<std::byte*>(p.data()), p.size()), b);
  return p;
}

inline std::vector<uint8_t> rand_bytes(size_t n, uint32_t seed) {
  std::vector<uint8_t> v(n);
  std::mt19937 rng(seed);
  for (auto& b : v) b = static_cast<uint8_t>(rng());
  return v;
}

struct SaPair {
  std::unique_ptr<EspSa> out, in;
  std::vector<uint8_t> ck, ak;
};

struct PairOpts {
  bool esn = false;
  bool natt = false;
  uint64_t seq_start = 1;
  uint32_t window = 64;
  uint32_t spi = 0x1001;
  uint32_t key_seed = 1;
};

inline EspSaConfig base_cfg(const EspSuite* s, EspDir dir, const PairOpts& o,
                            const std::vector<uint8_t>& ck, const std::vector<uint8_t>& ak) {
  EspSaConfig c;
  c.spi = o.spi;
  c.dir = dir;
  c.suite = s;
  c.cipher_key = ck;
  c.auth_key = ak;
  c.tun_src = Ipv4Addr(192, 0, 2, 1);
  c.tun_dst = Ipv4Addr(198, 51, 100, 2);
  c.esn = o.esn;
  c.replay_window = o.window;
  if (o.natt) {
    c.natt_sport = 4500;
    c.natt_dport = 4500;
  }
  c.seq_start = o.seq_start;
  return c;
}

inline SaPair make_pair(const EspSuite* s, const PairOpts& o = {}) {
  SaPair p;
  p.ck = rand_bytes(size_t{s->key_len} + s->salt_len, o.key_seed);
  p.ak = rand_bytes(s->auth_key_len, o.key_seed + 1000);
  std::string err;
  p.out = EspSa::create(base_cfg(s, EspDir::kOutbound, o, p.ck, p.ak), &err);
  EXPECT_TRUE(p.out) << err;
  p.in = EspSa::create(base_cfg(s, EspDir::kInbound, o, p.ck, p.ak), &err);
  EXPECT_TRUE(p.in) << err;
  return p;
}

/* Run a burst through a stage; returns the good count. */
template <class F>
uint16_t run(F f, EspEngine& eng, EspSa& sa, std::vector<TestPkt>& pk, std::vector<PktView*>* order = nullptr) {
  std::vector<PktView*> v;
  for (auto& p : pk) v.push_back(&p.v);
  const uint16_t k = f(eng, sa, v.data(), static_cast<uint16_t>(v.size()));
  if (order) *order = v;
  return k;
}

inline uint16_t outb(EspEngine& e, EspSa& sa, std::vector<TestPkt>& pk, std::vector<PktView*>* o = nullptr) {
  return run(esp_outb_process, e, sa, pk, o);
}
inline uint16_t inb(EspEngine& e, EspSa& sa, std::vector<TestPkt>& pk, std::vector<PktView*>* o = nullptr) {
  return run(esp_inb_process, e, sa, pk, o);
}

inline std::unique_ptr<EspEngine> engine() {
  std::string err;
  auto e = EspEngine::create(&err);
  EXPECT_TRUE(e) << err;
  return e;
}

}  // namespace mipvpn::test
