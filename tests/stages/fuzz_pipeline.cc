/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The combined appliance (x-HA + VPN gateway + i-HA) on a burst of up to
 * eight packets made from the input: raw bytes, or bytes that the mobile
 * node's side first wraps in valid layers (x-MIP only, ESP only, or the
 * whole cvc triple: IP-in-IP or RFC 3519 UDP, ESP with or without
 * RFC 3948), so that every stage sees both well-formed and hostile
 * packets. Invariants:
 *   - nothing is read or written outside a packet's buffer (each is an
 *     exactly sized heap buffer under AddressSanitizer);
 *   - every packet gets a verdict: a port index, punt, or drop with a
 *     known reason; the data window stays inside the buffer;
 *   - a forwarded packet is a valid IPv4 datagram no larger than the
 *     output port's MTU, and its next hop is set (echo replies and ICMP
 *     errors included: raw bytes with their header checksum fixed reach
 *     them).
 */
#include <fuzzer/FuzzedDataProvider.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "codec/ipip.h"
#include "codec/mip_tunnel.h"
#include "stages/server_pipeline.h"

using namespace mipvpn;

#define FUZZ_CHECK(cond)       \
  do {                         \
    if (!(cond)) std::abort(); \
  } while (0)

namespace {

const Ipv4Addr kIHoA(10, 10, 0, 5), kVpnTia(10, 99, 0, 5), kIHa(10, 10, 0, 1);
const Ipv4Addr kXHoA(203, 0, 113, 5), kVpnGw(198, 51, 100, 1), kCoA(192, 0, 2, 77);
const Ipv4Addr kXHa(198, 51, 100, 10), kNat(192, 0, 2, 200);

std::unique_ptr<EspSa> make_sa(EspDir dir, uint32_t spi, Ipv4Addr src, Ipv4Addr dst, bool natt) {
  static const uint8_t key[20] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20};
  const EspSuite* s = esp_suite_by_name("aes-128-gcm");
  EspSaConfig c;
  c.spi = spi;
  c.dir = dir;
  c.suite = s;
  c.cipher_key = {key, size_t{s->key_len} + s->salt_len};
  c.tun_src = src;
  c.tun_dst = dst;
  if (natt) c.natt_sport = c.natt_dport = kPortNatt;
  std::string err;
  auto r = EspSa::create(c, &err);
  FUZZ_CHECK(r);
  return r;
}

void bind(BindingTable& t, Ipv4Addr home, Ipv4Addr ha, Ipv4Addr peer, uint16_t port) {
  Binding* b = t.alloc();
  FUZZ_CHECK(b);
  b->home = home;
  b->ha = ha;
  b->n_coa = 1;
  b->coa[0].care_of = kCoA;
  b->coa[0].peer = peer;
  b->coa[0].peer_port = port;
  b->coa[0].encap = port ? BindingEncap::kUdp : BindingEncap::kIpIp;
  FUZZ_CHECK(t.publish(b));
}

struct World {
  Qsbr q;
  QsbrReclaimer rc{q};
  BindingTable xb{rc, 16}, ib{rc, 16};
  std::unique_ptr<EspSa> mn_out, mn_out_natt, gw_in, gw_in_natt, gw_out;
  std::unique_ptr<const StageTables> tables;
  std::atomic<const StageTables*> pub{nullptr};
  std::unique_ptr<EspEngine> eng;
  std::unique_ptr<ServerPipeline> pipe;

  World() {
    mn_out = make_sa(EspDir::kOutbound, 0x1001, kXHoA, kVpnGw, false);
    gw_in = make_sa(EspDir::kInbound, 0x1001, kXHoA, kVpnGw, false);
    mn_out_natt = make_sa(EspDir::kOutbound, 0x1002, kXHoA, kVpnGw, true);
    gw_in_natt = make_sa(EspDir::kInbound, 0x1002, kXHoA, kVpnGw, true);
    gw_out = make_sa(EspDir::kOutbound, 0x2002, kVpnGw, kXHoA, false);
    bind(xb, kXHoA, kXHa, kCoA, 0);
    bind(xb, Ipv4Addr(203, 0, 113, 6), kXHa, kNat, 49152);
    bind(ib, kIHoA, kIHa, kVpnTia, 0);
    bind(ib, Ipv4Addr(10, 10, 0, 6), kIHa, kVpnTia, 49153);
    std::string err;
    tables = StageTablesBuilder()
                 .roles(kRoleXha | kRoleVpnGw | kRoleIha)
                 .xha_addr(kXHa)
                 .iha_addr(kIHa)
                 .gw_addr(kVpnGw)
                 .port(Ipv4Addr(198, 51, 100, 2), 1500, PortZone::kExternal)
                 .port(Ipv4Addr(10, 20, 0, 1), 1400, PortZone::kInternal)
                 .xha_bindings(&xb)
                 .iha_bindings(&ib)
                 .inbound_sa(gw_in.get(), {Ipv4Addr(10, 99, 0, 0), 24})
                 .inbound_sa(gw_in_natt.get(), {Ipv4Addr(10, 99, 0, 0), 24})
                 .outbound_sa({kVpnTia, 32}, gw_out.get())
                 .route({Ipv4Addr(10, 0, 0, 0), 8}, 1)
                 .route({Ipv4Addr(), 0}, 0, Ipv4Addr(198, 51, 100, 254))
                 .icmp_errors(kIcmpMaxRate, kIcmpMaxBurst)  /* build every error */
                 .build(&err);
    FUZZ_CHECK(tables);
    pub.store(tables.get());
    pipe = ServerPipeline::create(pub, &err);
    eng = EspEngine::create(&err);
    FUZZ_CHECK(pipe && eng);
  }
};

World& world() {
  static World w;
  return w;
}

struct Buf {
  std::unique_ptr<std::byte[]> mem;
  PktView v;
  Buf(const std::vector<uint8_t>& pkt, uint32_t headroom, uint32_t tailroom)
      : mem(new std::byte[headroom + pkt.size() + tailroom]) {
    std::memset(mem.get(), 0xee, headroom + pkt.size() + tailroom);
    if (!pkt.empty()) std::memcpy(mem.get() + headroom, pkt.data(), pkt.size());
    v.buf = mem.get();
    v.buf_len = static_cast<uint32_t>(headroom + pkt.size() + tailroom);
    v.data_off = headroom;
    v.data_len = static_cast<uint32_t>(pkt.size());
  }
};

/* The mobile node's side: wrap v (a valid inner datagram, else left raw). */
void wrap(World& w, PktView& v, uint8_t mode) {
  const bool udp = mode & 4;
  if ((mode & 8) && v.data_len >= kIpv4HdrLen) {
    /* Fix the header checksum first, so that hostile but well-formed
     * headers (TTL 1, DF, ICMP to us) reach the stages and their ICMP. */
    std::byte* d = v.data();
    const uint32_t hl = (std::to_integer<uint32_t>(d[0]) & 0x0f) * 4;
    if (hl >= kIpv4HdrLen && hl <= v.data_len) {
      store_be16(d + 10, 0);
      store_be16(d + 10, ip_checksum(cbytes(d, hl)));
    }
  }
  auto mip = [&](Ipv4Addr src, Ipv4Addr dst, uint16_t sport) {
    return udp ? mip_tunnel_encap(v, {.src = src, .dst = dst, .sport = sport, .dport = kPortMip})
               : ipip_encap(v, {.src = src, .dst = dst});
  };
  auto esp = [&]() {
    PktView* p = &v;
    return esp_outb_process(*w.eng, udp ? *w.mn_out_natt : *w.mn_out, &p, 1) == 1;
  };
  switch (mode & 3) {
    case 1:  /* x-MIP only */
      (void)mip(udp ? kNat : kCoA, kXHa, 49152);
      break;
    case 2:  /* ESP only */
      (void)esp();
      break;
    case 3:  /* cvc */
      if (mip(kVpnTia, kIHa, 49153) == CodecError::kOk && esp()) (void)mip(udp ? kNat : kCoA, kXHa, 49152);
      break;
    default:
      break;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  World& w = world();
  FuzzedDataProvider f(data, size);
  const auto n = f.ConsumeIntegralInRange<uint16_t>(1, 8);
  const auto in_port = f.ConsumeIntegralInRange<uint16_t>(0, 2);  /* 2: unknown */
  std::vector<std::unique_ptr<Buf>> bufs;
  PktView* v[8];
  Ipv4Addr nh[8];
  for (uint16_t i = 0; i < n; ++i) {
    const uint8_t mode = f.ConsumeIntegral<uint8_t>();
    const uint32_t headroom = f.ConsumeBool() ? 256 : f.ConsumeIntegralInRange<uint32_t>(0, 64);
    auto bytes = i + 1 == n ? f.ConsumeRemainingBytes<uint8_t>()
                            : f.ConsumeBytes<uint8_t>(f.ConsumeIntegralInRange<size_t>(0, 1600));
    bufs.push_back(std::make_unique<Buf>(bytes, headroom, 128));
    wrap(w, bufs.back()->v, mode);
    v[i] = &bufs.back()->v;
  }
  w.pipe->process(v, n, in_port, nh);
  for (uint16_t i = 0; i < n; ++i) {
    const PktView& p = *v[i];
    FUZZ_CHECK(uint64_t{p.data_off} + p.data_len <= p.buf_len);
    if (p.user == kVerdictDrop) {
      FUZZ_CHECK(p.drop < static_cast<uint16_t>(StageDrop::kCount));
      continue;
    }
    if (p.user == kVerdictPunt) continue;
    FUZZ_CHECK(p.user < w.tables->n_ports());
    FUZZ_CHECK(ipv4_parse(cbytes(p.bytes())).ok());
    FUZZ_CHECK(p.data_len <= w.tables->port_mtu(p.user));
    FUZZ_CHECK(nh[i].host() != 0);
  }
  return 0;
}
