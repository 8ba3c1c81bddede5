/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Scenarios xha-decap, xha-encap, iha-decap, iha-encap, combined-inb and
 * combined-outb: the real worker loop (runtime/Runtime with one
 * ServerPipeline per worker) on two net_ring ports made from our own
 * rte_rings. The main lcore is the traffic generator (ring_gen.h): it
 * fills the RX ring of the scenario's input port with prebuilt frames,
 * drains the TX rings of both ports and refills the RX ring with the
 * drained mbufs (the template copied over again), so the workers never
 * starve. A round is --packets
 * frames, timed with the TSC from the first enqueue to the last frame out;
 * the figure is per worker (elapsed cycles x workers / packets). Round 0
 * warms up; the median of --rounds is reported.
 *
 * The cast is that of RFC 5265 Appendix A (as in dataplane/demo): port 0
 * outside (external zone), port 1 the intranet (internal). --nodes mobile
 * nodes get bindings (IP-in-IP, RFC 2003) published directly in the
 * BindingTables before the workers start; the frames are built as the
 * mobile node or the correspondent would send them, with the codecs and,
 * for the ESP layer, the node's own outbound EspSa. Up to kTemplates
 * distinct frames (one per node drawn at random) are cycled through.
 *
 * combined-*: --sas SA pairs (at most one per node); node i uses SA i / B
 * (B nodes per SA, a power of two), so the gateway's SPD holds one prefix of VPN tunnel
 * inner addresses per SA. The inbound SAs run without anti-replay (window
 * 0): the same ciphertexts come round again and again.
 *
 * Reference: combined-outb only, raw IPsec-MB (esp_ref.h) encrypting the
 * same inner lengths on the main lcore, alternating with our rounds.
 */
#include <algorithm>
#include <array>
#include <atomic>
#include <memory>
#include <cstring>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "bench.h"
#include "codec/ipip.h"
#include "codec/ipv4.h"
#include "codec/udp.h"
#include "crypto/esp.h"
#include "esp_ref.h"
#include "ha/binding_table.h"
#include "qsbr.h"
#include "ring_gen.h"
#include "runtime/eth.h"
#include "runtime/runtime.h"
#include "stages/drop.h"
#include "stages/server_pipeline.h"
#include "stages/tables.h"
#include "tsc.h"

namespace mipvpn::bench {
namespace {

/* ---- the cast ---- */
const Ipv4Addr kXHa(198, 51, 100, 10);   /* external home agent */
const Ipv4Addr kVpnGw(198, 51, 100, 1);  /* VPN gateway */
const Ipv4Addr kIHa(10, 10, 0, 1);       /* internal home agent */
const Ipv4Addr kOutPort(198, 51, 100, 2);
const Ipv4Addr kInPort(10, 20, 0, 1);
const Ipv4Addr kOutRouter(198, 51, 100, 254);
const Ipv4Addr kInRouter(10, 20, 0, 254);
const Ipv4Addr kCh(198, 51, 100, 77);    /* correspondent outside */
const Ipv4Addr kCn(10, 20, 0, 9);        /* correspondent in the intranet */
constexpr uint32_t kXHoABase = 0x64400000; /* 100.64.0.0 + i: x-HoA (/10) */
constexpr uint32_t kCoABase = 0x0b000000;  /* 11.0.0.0 + i: care-of address */
constexpr uint32_t kIHoABase = 0x0a400000; /* 10.64.0.0 + i: i-HoA (/10) */
constexpr uint32_t kTiaBase = 0x0a800000;  /* 10.128.0.0 + i: VPN-TIA (/9) */
constexpr uint64_t kMaxNodes = 1u << 22;   /* the /10s above */
constexpr uint32_t kTemplates = 16384;
constexpr uint16_t kMtu = 2000;
constexpr uint32_t kBuildHeadroom = 256;
const MacAddr kPortMac[2] = {{{0x02, 0, 0, 0, 0xb0, 0x00}}, {{0x02, 0, 0, 0, 0xb0, 0x01}}};
const MacAddr kPeerMac{{0x02, 0, 0, 0, 0xb0, 0x99}};

enum class Kind {
  kXhaDecap, kXhaEncap, kIhaDecap, kIhaEncap, kCombInb, kCombOutb,
  kVpnOutb, kVpnInb, /* VPN gateway alone: plain -> ESP tunnel mode, ESP -> plain */
  kForward,          /* no role: classify and forward only */
  kLoopNull,         /* no stages at all: the loop's own cost (NullPipeline) */
};

struct Shape {
  uint8_t roles;
  uint16_t in_port, out_port;
  bool esp;
};

Shape shape(Kind k) {
  constexpr uint8_t kAll = kRoleXha | kRoleVpnGw | kRoleIha;
  switch (k) {
    case Kind::kXhaDecap: return {kRoleXha, 0, 0, false};
    case Kind::kXhaEncap: return {kRoleXha, 0, 0, false};
    case Kind::kIhaDecap: return {kRoleIha, 1, 1, false};
    case Kind::kIhaEncap: return {kRoleIha, 1, 1, false};
    case Kind::kCombInb: return {kAll, 0, 1, true};
    case Kind::kCombOutb: return {kAll, 1, 0, true};
    case Kind::kVpnOutb: return {kRoleVpnGw, 1, 0, true};
    case Kind::kVpnInb: return {kRoleVpnGw, 0, 1, true};
    case Kind::kForward: return {0, 0, 0, false};
    case Kind::kLoopNull: return {0, 0, 0, false};
  }
  return {};
}

Ipv4Addr addr(uint32_t base, uint64_t i) { return Ipv4Addr(static_cast<uint32_t>(base + i)); }

uint32_t next_pow2(uint64_t v) {
  uint32_t p = 1;
  while (p < v) p <<= 1;
  return p;
}
uint8_t log2u(uint32_t p) {
  uint8_t l = 0;
  while ((1u << l) < p) ++l;
  return l;
}

/* ---- the appliance's state, as the control thread would publish it ---- */
struct Keys {
  std::vector<uint8_t> cipher, auth;
};

struct World {
  Qsbr q;
  QsbrReclaimer rc{q};
  BindingTable xb, ib;
  std::vector<std::unique_ptr<EspSa>> mn_out, gw_in, gw_out;
  std::unique_ptr<const StageTables> tables;
  std::atomic<const StageTables*> pub{nullptr};
  uint32_t n_sas = 0, per_sa = 1;
  Keys keys;
  const EspSuite* suite = nullptr;

  World(uint64_t nodes) : xb(rc, static_cast<uint32_t>(nodes)), ib(rc, static_cast<uint32_t>(nodes)) {}

  uint32_t sa_of(uint64_t node) const { return static_cast<uint32_t>(node / per_sa); }
};

void bind(BindingTable& t, Ipv4Addr home, Ipv4Addr ha, Ipv4Addr peer) {
  Binding* b = t.alloc();
  if (!b) throw std::runtime_error("binding pool exhausted");
  b->home = home;
  b->ha = ha;
  b->n_coa = 1;
  b->coa[0].care_of = peer;
  b->coa[0].peer = peer;
  b->coa[0].peer_port = 0;
  b->coa[0].encap = BindingEncap::kIpIp;
  b->coa[0].flags = kBindReverseTunnel | kBindInfinite;
  if (!t.publish(b)) throw std::runtime_error("binding table cannot grow");
}

std::unique_ptr<EspSa> make_sa(World& w, EspDir dir, uint32_t spi, Ipv4Addr src, Ipv4Addr dst) {
  EspSaConfig c;
  c.spi = spi;
  c.dir = dir;
  c.suite = w.suite;
  c.cipher_key = w.keys.cipher;
  c.auth_key = w.keys.auth;
  c.tun_src = src;
  c.tun_dst = dst;
  c.replay_window = 0; /* recycled ciphertexts: see the file comment */
  std::string err;
  auto sa = EspSa::create(c, &err);
  if (!sa) throw std::runtime_error("SA: " + err);
  return sa;
}

void setup(World& w, Kind k, const Options& o) {
  const Shape sh = shape(k);
  const uint64_t n = o.nodes;
  if (sh.roles & kRoleXha)
    for (uint64_t i = 0; i < n; ++i) bind(w.xb, addr(kXHoABase, i), kXHa, addr(kCoABase, i));
  if (sh.roles & kRoleIha)
    for (uint64_t i = 0; i < n; ++i) bind(w.ib, addr(kIHoABase, i), kIHa, addr(kTiaBase, i));
  StageTablesBuilder b;
  b.roles(sh.roles)
      .xha_addr(kXHa)
      .iha_addr(kIHa)
      .gw_addr(kVpnGw)
      .port(kOutPort, kMtu, PortZone::kExternal)
      .port(kInPort, kMtu, PortZone::kInternal)
      .xha_bindings(&w.xb)
      .iha_bindings(&w.ib)
      .route({Ipv4Addr(10, 0, 0, 0), 8}, 1, kInRouter)
      .route({Ipv4Addr(), 0}, 0, kOutRouter);
  if (sh.esp) {
    w.suite = esp_suite_by_name(o.cipher);
    if (!w.suite) throw std::runtime_error("unknown cipher '" + o.cipher + "'");
    for (unsigned i = 0; i < unsigned{w.suite->key_len} + w.suite->salt_len; ++i)
      w.keys.cipher.push_back(static_cast<uint8_t>(0x11 * i + 1));
    for (unsigned i = 0; i < w.suite->auth_key_len; ++i) w.keys.auth.push_back(static_cast<uint8_t>(0xa5 ^ i));
    w.n_sas = static_cast<uint32_t>(std::min<uint64_t>(n, o.sas));
    w.per_sa = next_pow2((n + w.n_sas - 1) / w.n_sas);
    w.n_sas = static_cast<uint32_t>((n + w.per_sa - 1) / w.per_sa);
    for (uint32_t j = 0; j < w.n_sas; ++j) {
      const Ipv4Addr x = addr(kXHoABase, j);
      w.mn_out.push_back(make_sa(w, EspDir::kOutbound, 0x1000 + j, x, kVpnGw));
      w.gw_in.push_back(make_sa(w, EspDir::kInbound, 0x1000 + j, x, kVpnGw));
      w.gw_out.push_back(make_sa(w, EspDir::kOutbound, 0x2000 + j, kVpnGw, x));
      const Ipv4Prefix tia{addr(kTiaBase, uint64_t{j} * w.per_sa), static_cast<uint8_t>(32 - log2u(w.per_sa))};
      b.inbound_sa(w.gw_in.back().get(), tia).outbound_sa(tia, w.gw_out.back().get());
    }
  }
  std::string err;
  w.tables = b.build(&err);
  if (!w.tables) throw std::runtime_error("tables: " + err);
  w.pub.store(w.tables.get(), std::memory_order_release);
}

/* ---- frames as the mobile node / correspondent send them (Frames: ring_gen.h) ---- */

void user_packet(PktView& v, Ipv4Addr src, Ipv4Addr dst, uint32_t size, uint32_t salt) {
  v.data_off = kBuildHeadroom;
  v.data_len = size;
  std::byte* d = v.data();
  ipv4_build({d, size}, {.src = src, .dst = dst, .total_len = static_cast<uint16_t>(size),
                         .id = static_cast<uint16_t>(salt), .proto = kIpProtoUdp, .ttl = 64});
  udp_build({d + kIpv4HdrLen, size - kIpv4HdrLen}, 40000, 5001, static_cast<uint16_t>(size - kIpv4HdrLen));
  for (uint32_t b = kIpv4HdrLen + kUdpHdrLen; b < size; ++b) d[b] = std::byte(b * 7 + salt);
}

void ipip(PktView& v, Ipv4Addr src, Ipv4Addr dst) {
  const CodecError e = ipip_encap(v, {.src = src, .dst = dst, .id = 9});
  if (e != CodecError::kOk) throw std::runtime_error("ipip_encap: " + std::string(to_string(e)));
}

Frames build_frames(World& w, Kind k, const Options& o, EspEngine* eng) {
  const uint32_t t = static_cast<uint32_t>(std::min<uint64_t>(o.nodes, kTemplates));
  std::vector<uint64_t> node(t);
  std::mt19937_64 rng(7);
  for (uint32_t i = 0; i < t; ++i) node[i] = t == o.nodes ? i : rng() % o.nodes;
  std::shuffle(node.begin(), node.end(), rng);

  Frames f;
  f.stride = (o.size + 200 + 63) / 64 * 64;
  f.mem.resize(size_t{t} * f.stride);
  f.len.resize(t);
  std::vector<std::byte> scratch(kBuildHeadroom + o.size + 256);
  const uint16_t in = shape(k).in_port;
  for (uint32_t i = 0; i < t; ++i) {
    const uint64_t n = node[i];
    PktView v{.buf = scratch.data(), .buf_len = static_cast<uint32_t>(scratch.size())};
    switch (k) {
      case Kind::kXhaDecap: /* reverse tunnel from the care-of address (RFC 3024) */
        user_packet(v, addr(kXHoABase, n), kCh, o.size, i);
        ipip(v, addr(kCoABase, n), kXHa);
        break;
      case Kind::kXhaEncap:
        user_packet(v, kCh, addr(kXHoABase, n), o.size, i);
        break;
      case Kind::kIhaDecap:
        user_packet(v, addr(kIHoABase, n), kCn, o.size, i);
        ipip(v, addr(kTiaBase, n), kIHa);
        break;
      case Kind::kIhaEncap:
      case Kind::kCombOutb:
        user_packet(v, kCn, addr(kIHoABase, n), o.size, i);
        break;
      case Kind::kVpnOutb: /* to the mobile node's VPN-TIA through its SA */
        user_packet(v, kCn, addr(kTiaBase, n), o.size, i);
        break;
      case Kind::kVpnInb: { /* ESP tunnel mode from the node's x-HoA */
        user_packet(v, addr(kTiaBase, n), kCn, o.size, i);
        PktView* pv = &v;
        if (esp_outb_process(*eng, *w.mn_out[w.sa_of(n)], &pv, 1) != 1)
          throw std::runtime_error("mobile node's ESP outbound refused the packet");
        break;
      }
      case Kind::kForward:
      case Kind::kLoopNull:
        user_packet(v, kCh, addr(kXHoABase, n), o.size, i);
        break;
      case Kind::kCombInb: { /* cvc, RFC 5265 2.3 */
        user_packet(v, addr(kIHoABase, n), kCn, o.size, i);
        ipip(v, addr(kTiaBase, n), kIHa);
        PktView* pv = &v;
        if (esp_outb_process(*eng, *w.mn_out[w.sa_of(n)], &pv, 1) != 1)
          throw std::runtime_error("mobile node's ESP outbound refused the packet");
        ipip(v, addr(kCoABase, w.sa_of(n)), kXHa);
        break;
      }
    }
    if (v.data_len + kEthHdrLen > f.stride) throw std::runtime_error("frame larger than its slot");
    std::byte* d = f.mem.data() + size_t{i} * f.stride;
    std::memcpy(d, kPortMac[in].b.data(), 6);
    std::memcpy(d + 6, kPeerMac.b.data(), 6);
    d[12] = std::byte{0x08};
    d[13] = std::byte{0x00};
    std::memcpy(d + kEthHdrLen, v.data(), v.data_len);
    f.len[i] = kEthHdrLen + v.data_len;
  }
  return f;
}

uint64_t default_packets(const Options& o, bool esp) {
  if (o.packets) return o.packets;
  if (esp) return o.size <= 256 ? 400000 : 200000;
  return o.size <= 256 ? 2000000 : 1000000;
}

uint32_t padded_payload(const EspSuite& s, uint32_t size) {
  const uint32_t b = s.block;
  return (size + 2 + b - 1) / b * b;
}

/* The no-stage pipeline of loop-null: every packet out of the port it
 * came in on, to the router there. What is left is the loop itself. */
class NullPipeline final : public Pipeline {
 public:
  NullPipeline(uint16_t port, Ipv4Addr nh) : port_(port), nh_(nh) {}
  void process(PktView* const* pkts, uint16_t n, uint16_t, Ipv4Addr* next_hop) noexcept override {
    for (uint16_t i = 0; i < n; ++i) {
      pkts[i]->user = port_;
      next_hop[i] = nh_;
    }
  }

 private:
  uint16_t port_;
  Ipv4Addr nh_;
};

/* Raw IPsec-MB on the outbound scenarios' inner lengths (esp_ref.h):
 * vpngw-outb encrypts the user packet, combined-outb the i-MIP packet. */
struct Reference {
  std::unique_ptr<RawEsp> raw;
  std::vector<uint8_t> mem;
  std::vector<uint8_t*> bufs;
  uint32_t plen = 0;

  Reference(const World& w, Kind k, const Options& o, uint32_t n) {
    if (k != Kind::kCombOutb && k != Kind::kVpnOutb) return;
    raw = RawEsp::create(*w.suite, w.keys.cipher, w.keys.auth);
    plen = padded_payload(*w.suite, o.size + (k == Kind::kCombOutb ? kIpv4HdrLen : 0));
    const uint32_t stride = 8 + w.suite->iv_len + plen + w.suite->icv_len + 64;
    mem.assign(size_t{n} * stride, 0x5a);
    for (uint32_t i = 0; i < n; ++i) bufs.push_back(mem.data() + size_t{i} * stride);
  }
  /* TSC cycles per packet for `packets` in bursts. */
  double run(uint64_t packets, uint16_t burst) {
    uint64_t rc = 0;
    uint32_t at = 0;
    uint8_t* rb[kMaxBurst];
    for (uint64_t d = 0; d < packets; d += burst) {
      const uint16_t b = static_cast<uint16_t>(std::min<uint64_t>(burst, packets - d));
      for (uint16_t j = 0; j < b; ++j) rb[j] = bufs[(at + j) % bufs.size()];
      const uint64_t t0 = tsc_now();
      raw->encrypt_burst(rb, plen, b);
      rc += tsc_now() - t0;
      at = static_cast<uint32_t>((at + b) % bufs.size());
    }
    return static_cast<double>(rc) / static_cast<double>(packets);
  }
};

std::unique_ptr<Pipeline> make_pipeline(Kind k, World& w, std::string* err) {
  if (k == Kind::kLoopNull) return std::make_unique<NullPipeline>(shape(k).out_port, kOutRouter);
  return ServerPipeline::create(w.pub, err);
}

Result base_result(Kind k, const Options& o, uint64_t packets) {
  Result r;
  r.scenario = o.scenario;
  r.cipher = shape(k).esp ? o.cipher : "none";
  r.size = o.size;
  r.packets = packets * o.rounds;
  r.nodes = o.nodes;
  r.no_ring = o.no_ring;
  return r;
}

/*
 * --no-ring: the stages alone, no DPDK, no generator. The frames (their
 * Ethernet header skipped, as eth_rx would) are copied into kInflight
 * buffers in rotation with 128 bytes of headroom (RTE_PKTMBUF_HEADROOM);
 * only Pipeline::process is timed, burst by burst, and every packet must
 * come out with the scenario's output port as its verdict. The copy puts
 * the packet in the cache first: a NIC's DMA leaves it in the LLC at
 * best, so this is the stages' cost with warm data. Runs under valgrind.
 */
Result run_stages(Kind k, const Options& o, double hz, World& w) {
  const Shape sh = shape(k);
  const uint64_t packets = default_packets(o, sh.esp);
  std::string err;
  auto eng = EspEngine::create(&err);
  if (!eng) throw std::runtime_error("engine: " + err);
  const Frames f = build_frames(w, k, o, eng.get());
  auto pipe = make_pipeline(k, w, &err);
  if (!pipe) throw std::runtime_error("pipeline: " + err);

  constexpr uint32_t kHead = 128;
  const uint32_t room = (kHead + f.stride + 128 + 63) / 64 * 64;
  std::vector<std::byte> mem(size_t{kInflight} * room + 64);
  std::byte* base = mem.data() + (64 - reinterpret_cast<uintptr_t>(mem.data()) % 64) % 64;
  std::array<PktView, kMaxBurst> views;
  std::array<PktView*, kMaxBurst> ptrs;
  std::array<Ipv4Addr, kMaxBurst> nh;
  for (uint16_t j = 0; j < kMaxBurst; ++j) ptrs[j] = &views[j];
  Reference ref(w, k, o, static_cast<uint32_t>(f.len.size()));

  std::vector<double> ours, refc;
  uint32_t at_t = 0, at_b = 0;
  uint64_t bad = 0, last_drop = 0;
  for (uint32_t round = 0; round < o.rounds + 1; ++round) {
    uint64_t cyc = 0;
    for (uint64_t d = 0; d < packets; d += o.burst) {
      const uint16_t b = static_cast<uint16_t>(std::min<uint64_t>(o.burst, packets - d));
      for (uint16_t j = 0; j < b; ++j) {
        std::byte* buf = base + size_t{at_b} * room;
        const uint32_t len = f.len[at_t] - kEthHdrLen;
        std::memcpy(buf + kHead, f.at(at_t) + kEthHdrLen, len);
        views[j] = PktView{.buf = buf, .buf_len = room, .data_off = kHead, .data_len = len,
                           .drop = 0, .user = kVerdictDrop};
        nh[j] = Ipv4Addr();
        at_t = at_t + 1 == f.len.size() ? 0 : at_t + 1;
        at_b = at_b + 1 == kInflight ? 0 : at_b + 1;
      }
      const uint64_t t0 = tsc_now();
      pipe->process(ptrs.data(), b, sh.in_port, nh.data());
      cyc += tsc_now() - t0;
      for (uint16_t j = 0; j < b; ++j) {
        if (views[j].user == sh.out_port) continue;
        ++bad;
        last_drop = views[j].drop;
      }
    }
    if (round) ours.push_back(static_cast<double>(cyc) / static_cast<double>(packets));
    if (ref.raw) {
      const double rc = ref.run(packets, o.burst);
      if (round) refc.push_back(rc);
    }
  }
  if (bad)
    throw std::runtime_error(std::to_string(bad) + " packets not forwarded (last drop reason " +
                             std::string(to_string(static_cast<StageDrop>(last_drop))) + ")");
  Result r = base_result(k, o, packets);
  r.ours = make_figure(median(ours), hz, o.size);
  if (ref.raw) {
    r.ref_name = std::string(ref.raw->name());
    r.ref = make_figure(median(refc), hz, o.size);
  }
  return r;
}

Result run_kind(Kind k, const Options& o, double hz) {
  if (o.nodes > kMaxNodes) throw std::runtime_error("these scenarios take at most 4M nodes");
  const Shape sh = shape(k);
  const unsigned workers = o.workers;
  const uint64_t packets = default_packets(o, sh.esp);
  World w(o.nodes);
  setup(w, k, o);
  if (o.no_ring) return run_stages(k, o, hz, w);

  /* Memory: the generator's pool, the runtime's (small) pool, rings. */
  const uint32_t rt_mbufs = 4096;
  const uint32_t mb = 64 + (kInflight + 512 + rt_mbufs) * 2432u / (1u << 20) + 16 * workers;
  eal_up(workers, mb);
  EalGuard eal_guard;

  std::string err;
  auto eng = EspEngine::create(&err);
  if (!eng) throw std::runtime_error("engine: " + err);
  const Frames f = build_frames(w, k, o, eng.get());

  rte_mempool* pool = make_pool(kInflight + 512);
  PortRings ports[2] = {make_port("bench_out", workers), make_port("bench_in", workers)};

  RuntimeConfig cfg;
  cfg.workers = workers;
  cfg.ports = {{.name = "outside", .device = "net_ring_bench_out", .mtu = kMtu, .mac = kPortMac[0]},
               {.name = "inside", .device = "net_ring_bench_in", .mtu = kMtu, .mac = kPortMac[1]}};
  cfg.neighbours = {{.port = 0, .ip = kOutRouter, .mac = kPeerMac}, {.port = 1, .ip = kInRouter, .mac = kPeerMac}};
  cfg.rx_desc = 512;
  cfg.tx_desc = 512;
  cfg.mbufs_per_socket = rt_mbufs;
  cfg.spread_ring_size = kRingSize; /* worker 0 -> 1 never overflows */
  cfg.catch_signals = true;
  std::string perr;
  auto [rt, rerr] = Runtime::create(cfg, [&](unsigned) { return make_pipeline(k, w, &perr); });
  if (!rt) throw std::runtime_error("runtime: " + rerr + (perr.empty() ? "" : " (" + perr + ")"));
  if (rt->workers() != workers) throw std::runtime_error("the runtime runs fewer workers than asked");
  WorkerThreads threads;
  if (RtStatus st = rt->start(on_quiescent, &threads); !st.ok()) throw std::runtime_error(st.error);

  Gen gen{.rt = *rt, .f = f, .pool = pool, .rx = ports[sh.in_port].rx, .tx = {}};
  for (auto& p : ports) gen.tx.insert(gen.tx.end(), p.tx.begin(), p.tx.end());

  Reference ref(w, k, o, static_cast<uint32_t>(f.len.size()));
  std::vector<double> ours, refc, cpu, busy, vec;
  uint64_t out_total = 0;
  for (uint32_t round = 0; round < o.rounds + 1; ++round) {
    uint64_t out = 0;
    const uint64_t ns0 = workers_cpu_ns(threads, workers);
    const RtCounts c0 = rt->counts();
    const uint64_t cyc = gen.round(packets, hz, &out);
    const uint64_t ns1 = workers_cpu_ns(threads, workers);
    const RtCounts c1 = rt->counts();
    if (round) {
      ours.push_back(static_cast<double>(cyc) * workers / static_cast<double>(packets));
      cpu.push_back(static_cast<double>(ns1 - ns0) * hz / 1e9 / static_cast<double>(packets));
      busy.push_back(static_cast<double>(c1.busy_cycles - c0.busy_cycles) / static_cast<double>(packets));
      /* Packets per busy poll, as VPP's vectors per call. */
      const uint64_t bp = c1.busy_polls - c0.busy_polls;
      vec.push_back(bp ? static_cast<double>(c1.rx - c0.rx) / static_cast<double>(bp) : 0);
      out_total += out;
    }
    if (ref.raw) {
      const double rc = ref.run(packets, o.burst);
      if (round) refc.push_back(rc);
    }
  }
  const RtCounts c = rt->counts();
  report_drops(c);
  rt.reset();
  for (auto& p : ports) free_port(p);
  free_pool(pool);

  Result r = base_result(k, o, packets);
  r.ours = make_figure(median(ours), hz, o.size);
  r.workers = workers;
  r.total_mpps = r.ours.mpps * workers;
  r.packets_out = out_total;
  r.worker_cpu = make_figure(median(cpu), hz, o.size);
  r.worker_busy = make_figure(median(busy), hz, o.size);
  r.per_poll = median(vec);
  r.dropped = c.total_drops();
  if (ref.raw) {
    r.ref_name = std::string(ref.raw->name());
    r.ref = make_figure(median(refc), hz, o.size);
  }
  return r;
}

Result xha_decap(const Options& o, double hz) { return run_kind(Kind::kXhaDecap, o, hz); }
Result xha_encap(const Options& o, double hz) { return run_kind(Kind::kXhaEncap, o, hz); }
Result iha_decap(const Options& o, double hz) { return run_kind(Kind::kIhaDecap, o, hz); }
Result iha_encap(const Options& o, double hz) { return run_kind(Kind::kIhaEncap, o, hz); }
Result comb_inb(const Options& o, double hz) { return run_kind(Kind::kCombInb, o, hz); }
Result comb_outb(const Options& o, double hz) { return run_kind(Kind::kCombOutb, o, hz); }

const Register kR1{{"xha-decap", "worker loop, x-HA: IP-in-IP from the CoA decapsulated, forwarded", xha_decap}};
const Register kR2{{"xha-encap", "worker loop, x-HA: to an x-HoA, IP-in-IP to its CoA", xha_encap}};
const Register kR3{{"iha-decap", "worker loop, i-HA: IP-in-IP from the VPN-TIA decapsulated", iha_decap}};
const Register kR4{{"iha-encap", "worker loop, i-HA: to an i-HoA, IP-in-IP to its VPN-TIA", iha_encap}};
const Register kR5{{"combined-inb", "worker loop, all roles: cvc triple decap (x-MIP, ESP, i-MIP)", comb_inb}};
const Register kR6{{"combined-outb", "worker loop, all roles: triple encap (vs raw IPsec-MB encrypt)", comb_outb}};
Result vpn_outb(const Options& o, double hz) { return run_kind(Kind::kVpnOutb, o, hz); }
Result vpn_inb(const Options& o, double hz) { return run_kind(Kind::kVpnInb, o, hz); }
Result forward(const Options& o, double hz) { return run_kind(Kind::kForward, o, hz); }
Result loop_null(const Options& o, double hz) { return run_kind(Kind::kLoopNull, o, hz); }
const Register kR7{{"vpngw-outb", "worker loop, VPN gateway alone: plain -> ESP tunnel mode (vs raw IPsec-MB)", vpn_outb}};
const Register kR8{{"vpngw-inb", "worker loop, VPN gateway alone: ESP tunnel mode -> plain", vpn_inb}};
const Register kR9{{"forward", "worker loop, no role: classify, route, forward", forward}};
const Register kR10{{"loop-null", "worker loop with an empty pipeline: rx, Ethernet, tx only", loop_null}};

}  // namespace
}  // namespace mipvpn::bench
