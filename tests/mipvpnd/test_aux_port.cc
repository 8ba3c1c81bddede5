/* SPDX-License-Identifier: BSD-3-Clause */
/* The IKE bridge's device (dataplane/runtime/aux_port.h) with EAL on
 * --no-huge: a net_ring device loops what it sends back to its receive
 * queue, so a packet written with tx() comes back from rx() unchanged,
 * from the port's own pool; refusals say why. (The TUN itself needs root:
 * tests/mipvpnd/ike_bridge.py.) */
#include <gtest/gtest.h>
#include <rte_mbuf.h>
#include <unistd.h>

#include <array>
#include <cstring>
#include <string>
#include <vector>

#include "runtime/aux_port.h"
#include "runtime/eal.h"

using namespace mipvpn;

namespace {

class EalEnv : public ::testing::Environment {
 public:
  void SetUp() override {
    const RtStatus st = eal_init({"--no-huge", "-m", "128", "--no-pci", "--no-telemetry",
                                  "--file-prefix=mipvpn-aux-" + std::to_string(getpid()), "--lcores=0",
                                  "--log-level=*:error"});
    ASSERT_TRUE(st.ok()) << st.error;
    pool = rte_pktmbuf_pool_create("aux_test_pool", 255, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, 0);
    ASSERT_NE(pool, nullptr);
  }
  void TearDown() override {
    rte_mempool_free(pool);
    eal_cleanup();
  }
  static inline rte_mempool* pool = nullptr;
};

[[maybe_unused]] const auto* const kEnv = ::testing::AddGlobalTestEnvironment(new EalEnv);

/* A packet of n bytes (0, 1, 2, ...) from the test's pool, as the
 * Runtime would hand over a punted one. */
CtlPkt pkt(size_t n) {
  CtlPkt c;
  c.mbuf = rte_pktmbuf_alloc(EalEnv::pool);
  char* d = rte_pktmbuf_append(c.mbuf, static_cast<uint16_t>(n));
  for (size_t i = 0; i < n; ++i) d[i] = static_cast<char>(i);
  c.view.buf = static_cast<std::byte*>(c.mbuf->buf_addr);
  c.view.buf_len = c.mbuf->buf_len;
  c.view.data_off = c.mbuf->data_off;
  c.view.data_len = c.mbuf->data_len;
  return c;
}

}  // namespace

TEST(AuxPort, LoopsBackThroughARing) {
  std::string err;
  auto aux = AuxPort::open({.name = "t", .device = "net_ring_auxt0", .mtu = 1400}, &err);
  ASSERT_NE(aux, nullptr) << err;
  EXPECT_EQ(aux->name(), "t");
  std::array<CtlPkt, 8> in;
  EXPECT_EQ(aux->rx(in.data(), 8), 0);
  for (size_t n : {60u, 1400u}) {
    CtlPkt p = pkt(n);
    ASSERT_NE(p.mbuf, nullptr);
    p.view.data_off += 4;  /* the window moved, as after a decapsulation */
    p.view.data_len -= 4;
    EXPECT_TRUE(aux->tx(p));
    EXPECT_EQ(p.mbuf, nullptr);  /* consumed */
    ASSERT_EQ(aux->rx(in.data(), 8), 1);
    EXPECT_EQ(in[0].view.data_len, n - 4);
    EXPECT_FALSE(in[0].arp);
    EXPECT_EQ(std::to_integer<uint8_t>(in[0].view.data()[0]), 4);
    EXPECT_EQ(std::to_integer<uint8_t>(in[0].view.data()[n - 5]), static_cast<uint8_t>(n - 1));
    aux->free(in[0]);
    EXPECT_EQ(in[0].mbuf, nullptr);
  }
  /* More than one burst. */
  for (int i = 0; i < 40; ++i) {
    CtlPkt p = pkt(100);
    ASSERT_TRUE(aux->tx(p));
  }
  std::array<CtlPkt, 64> many;
  EXPECT_EQ(aux->rx(many.data(), 64), 40);
  for (int i = 0; i < 40; ++i) aux->free(many[static_cast<size_t>(i)]);
  EXPECT_EQ(aux->counts().tx, 42u);
  EXPECT_EQ(aux->counts().rx, 42u);
  EXPECT_EQ(aux->counts().tx_full, 0u);
  CtlPkt none;
  EXPECT_FALSE(aux->tx(none));  /* no mbuf: nothing to send */
}

TEST(AuxPort, RefusalsSayWhy) {
  std::string err;
  EXPECT_EQ(AuxPort::open({.name = "x", .device = "net_nosuchdriver0"}, &err), nullptr);
  EXPECT_NE(err.find("port 'x' (net_nosuchdriver0): creating the virtual device failed"), std::string::npos) << err;
  err.clear();
  EXPECT_EQ(AuxPort::open({.name = "big", .device = "net_ring_auxt1", .mtu = 2040}, &err), nullptr);
  EXPECT_NE(err.find("MTU 2040 does not fit"), std::string::npos) << err;
  auto a = AuxPort::open({.name = "a", .device = "net_ring_auxt2"}, &err);
  ASSERT_NE(a, nullptr) << err;
  err.clear();
  EXPECT_EQ(AuxPort::open({.name = "b", .device = "net_ring_auxt2"}, &err), nullptr);
  EXPECT_NE(err.find("exists already"), std::string::npos) << err;
  /* Closed and removed: the name can be used again. */
  a.reset();
  a = AuxPort::open({.name = "a", .device = "net_ring_auxt2"}, &err);
  EXPECT_NE(a, nullptr) << err;
}
