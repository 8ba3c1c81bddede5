/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * mipvpn-demo: one user packet through the three layers of RFC 5265 access
 * mode cvc and back, with every layer printed, then a burst of traffic
 * through the combined appliance's triple decapsulation.
 *
 * Mobile node (outside):   user -> i-MIP encap -> ESP outbound -> x-MIP encap
 * Appliance (x-HA + VPN gateway + i-HA in one, RFC 5265 section 2):
 *                          x-MIP decap -> ESP inbound -> i-MIP decap -> user
 * and the reply the other way. No NIC, no configuration.
 */
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "codec/ipip.h"
#include "codec/ipv4.h"
#include "codec/mip_tunnel.h"
#include "codec/udp.h"
#include "crypto/esp.h"

using namespace mipvpn;

namespace {

/* The cast of RFC 5265 Appendix A, with documentation addresses outside. */
const Ipv4Addr kIHoA(10, 10, 0, 5);      /* home address at the i-HA */
const Ipv4Addr kCn(10, 20, 0, 9);        /* correspondent in the intranet */
const Ipv4Addr kVpnTia(10, 99, 0, 5);    /* VPN tunnel inner address */
const Ipv4Addr kIHa(10, 10, 0, 1);       /* internal home agent */
const Ipv4Addr kXHoA(203, 0, 113, 5);    /* home address at the x-HA */
const Ipv4Addr kVpnGw(198, 51, 100, 1);  /* VPN gateway */
const Ipv4Addr kCoA(192, 0, 2, 77);      /* care-of address, outside */
const Ipv4Addr kXHa(198, 51, 100, 10);   /* external home agent */

struct Opts {
  std::string cipher = "aes-128-gcm";
  bool nat = false;        /* RFC 3519 for both Mobile IP layers, RFC 3948 for ESP */
  uint32_t packets = 200000;
  uint32_t size = 1000;    /* user packet bytes */
};

[[noreturn]] void fail(const std::string& what) {
  std::fprintf(stderr, "mipvpn-demo: %s\n", what.c_str());
  std::exit(1);
}

void check(CodecError e, const char* stage) {
  if (e != CodecError::kOk) fail(std::string(stage) + ": " + std::string(to_string(e)));
}

struct Buf {
  std::vector<std::byte> mem;
  PktView v;
  explicit Buf(uint32_t cap) : mem(cap) {
    v.buf = mem.data();
    v.buf_len = cap;
    v.data_off = 256;
    v.data_len = 0;
  }
};

void user_packet(PktView& v, Ipv4Addr src, Ipv4Addr dst, uint32_t size, uint16_t id) {
  v.data_off = 256;
  v.data_len = size;
  std::byte* p = v.data();
  ipv4_build({p, size}, {.src = src, .dst = dst, .total_len = static_cast<uint16_t>(size), .id = id,
                         .proto = kIpProtoUdp, .ttl = 64});
  udp_build({p + kIpv4HdrLen, size - kIpv4HdrLen}, 40000, 5001, static_cast<uint16_t>(size - kIpv4HdrLen));
  for (uint32_t i = kIpv4HdrLen + kUdpHdrLen; i < size; ++i) p[i] = std::byte(i);
}

/* One line per layer: what it did, the size after, the bytes it added. */
void show(const char* who, const char* what, const PktView& v, int delta) {
  auto ip = ipv4_parse(v.bytes());
  std::printf("  %-9s %-40s %5u B  %+4d  outer %s -> %s\n", who, what, v.data_len, delta,
              ip ? ip->src.str().c_str() : "?", ip ? ip->dst.str().c_str() : "?");
}

struct Stack {
  const Opts& o;
  std::unique_ptr<EspEngine> eng;
  std::unique_ptr<EspSa> mn_out, gw_in, gw_out, mn_in;
  uint16_t id = 1;

  std::unique_ptr<EspSa> sa(EspDir dir, uint32_t spi, Ipv4Addr src, Ipv4Addr dst, const EspSuite& s) {
    static const uint8_t key[36] = {0x4c, 0x80, 0xcd, 0xef, 0xbb, 0x5d, 0x10, 0xda, 0x90, 0x6a, 0xc7, 0x3c,
                                    0x36, 0x13, 0xa6, 0x34, 0x2e, 0x44, 0x3b, 0x68, 0x4c, 0x80, 0xcd, 0xef,
                                    0xbb, 0x5d, 0x10, 0xda, 0x90, 0x6a, 0xc7, 0x3c, 0x36, 0x13, 0xa6, 0x34};
    static const uint8_t akey[32] = {0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b,
                                     0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b};
    EspSaConfig c;
    c.spi = spi;
    c.dir = dir;
    c.suite = &s;
    c.cipher_key = {key, size_t{s.key_len} + s.salt_len};
    c.auth_key = {akey, s.auth_key_len};
    c.tun_src = src;
    c.tun_dst = dst;
    c.replay_window = 1024;
    if (o.nat) c.natt_sport = c.natt_dport = kPortNatt;
    std::string err;
    auto r = EspSa::create(c, &err);
    if (!r) fail("SA: " + err);
    return r;
  }

  explicit Stack(const Opts& opts) : o(opts) {
    const EspSuite* s = esp_suite_by_name(o.cipher);
    if (!s) fail("unknown cipher " + o.cipher);
    std::string err;
    eng = EspEngine::create(&err);
    if (!eng) fail("crypto engine: " + err);
    /* IKE would negotiate these, with the x-HoA as the node's IPsec
     * address (RFC 5265 2.3): moves outside never touch the SAs. */
    mn_out = sa(EspDir::kOutbound, 0x1001, kXHoA, kVpnGw, *s);
    gw_in = sa(EspDir::kInbound, 0x1001, kXHoA, kVpnGw, *s);
    gw_out = sa(EspDir::kOutbound, 0x2002, kVpnGw, kXHoA, *s);
    mn_in = sa(EspDir::kInbound, 0x2002, kVpnGw, kXHoA, *s);
  }

  /* Encapsulate one Mobile IP layer: IP-in-IP, or RFC 3519 UDP with --nat. */
  CodecError mip_encap(PktView& v, Ipv4Addr src, Ipv4Addr dst) {
    if (!o.nat) return ipip_encap(v, {.src = src, .dst = dst, .id = id++});
    return mip_tunnel_encap(v, {.src = src, .dst = dst, .sport = 49152, .dport = kPortMip, .id = id++});
  }
  CodecError mip_decap(PktView& v) {
    if (!o.nat) return ipip_decap(v).error();
    return mip_tunnel_decap(v).error();
  }
  const char* mip_name() const { return o.nat ? "UDP 434 tunnel (RFC 3519)" : "IP-in-IP (RFC 2003)"; }

  bool esp(EspSa& sa_, PktView& v, bool out) {
    PktView* p = &v;
    return (out ? esp_outb_process(*eng, sa_, &p, 1) : esp_inb_process(*eng, sa_, &p, 1)) == 1;
  }
};

int walkthrough(Stack& st, const Opts& o) {
  Buf b(4096);
  PktView& v = b.v;
  std::printf("\nAccess mode cvc%s, %s: mobile node -> correspondent\n", o.nat ? " with NAT traversal" : "",
              o.cipher.c_str());
  user_packet(v, kIHoA, kCn, o.size, 7);
  const std::vector<std::byte> original(v.data(), v.data() + v.data_len);
  show("MN", "user packet i-HoA -> CN", v, 0);
  uint32_t len = v.data_len;
  check(st.mip_encap(v, kVpnTia, kIHa), "i-MIP encap");
  show("MN", (std::string("i-MIP ") + st.mip_name()).c_str(), v, int(v.data_len - len));
  len = v.data_len;
  if (!st.esp(*st.mn_out, v, true)) fail(std::string("ESP outbound: ") + std::string(to_string(EspDrop(v.drop))));
  show("MN", o.nat ? "ESP in UDP 4500 (RFC 4303, 3948)" : "ESP tunnel mode (RFC 4303)", v, int(v.data_len - len));
  len = v.data_len;
  check(st.mip_encap(v, kCoA, kXHa), "x-MIP encap");
  show("MN", (std::string("x-MIP ") + st.mip_name()).c_str(), v, int(v.data_len - len));
  const uint32_t overhead = v.data_len - o.size;
  len = v.data_len;
  check(st.mip_decap(v), "x-MIP decap");
  show("x-HA", "x-MIP decapsulated", v, int(v.data_len - len));
  len = v.data_len;
  if (!st.esp(*st.gw_in, v, false)) fail(std::string("ESP inbound: ") + std::string(to_string(EspDrop(v.drop))));
  show("VPN-GW", "ESP verified and decrypted", v, int(v.data_len - len));
  len = v.data_len;
  check(st.mip_decap(v), "i-MIP decap");
  show("i-HA", "i-MIP decapsulated", v, int(v.data_len - len));
  if (v.data_len != original.size() || std::memcmp(v.data(), original.data(), original.size()) != 0)
    fail("the packet delivered is not the packet sent");
  std::printf("  delivered to the CN intact; overhead on the wire %u B\n", overhead);

  std::printf("\nReply: correspondent -> mobile node\n");
  user_packet(v, kCn, kIHoA, o.size, 8);
  const std::vector<std::byte> reply(v.data(), v.data() + v.data_len);
  show("CN", "user packet CN -> i-HoA", v, 0);
  len = v.data_len;
  check(st.mip_encap(v, kIHa, kVpnTia), "i-MIP encap");
  show("i-HA", "binding i-HoA -> VPN-TIA: i-MIP encap", v, int(v.data_len - len));
  len = v.data_len;
  if (!st.esp(*st.gw_out, v, true)) fail("ESP outbound (gateway)");
  show("VPN-GW", "SPD VPN-TIA -> SA 0x2002: ESP", v, int(v.data_len - len));
  len = v.data_len;
  check(st.mip_encap(v, kXHa, kCoA), "x-MIP encap");
  show("x-HA", "binding x-HoA -> CoA: x-MIP encap", v, int(v.data_len - len));
  len = v.data_len;
  check(st.mip_decap(v), "x-MIP decap");
  if (!st.esp(*st.mn_in, v, false)) fail("ESP inbound (mobile node)");
  check(st.mip_decap(v), "i-MIP decap");
  if (v.data_len != reply.size() || std::memcmp(v.data(), reply.data(), reply.size()) != 0)
    fail("the reply delivered is not the reply sent");
  show("MN", "three layers off: reply delivered intact", v, int(v.data_len - len));

  const EspSuite& s = st.mn_out->suite();
  const uint32_t mip = o.nat ? kMipUdpOverhead : kIpipOverhead;
  std::printf("\nMaximum overhead, RFC 5265 section 5.2 (cvc):\n");
  std::printf("  RFC figure (64-bit block cipher, 12-byte ICV, no NAT traversal): 97 B, 129 B with all NAT-T headers\n");
  std::printf("  this run (%.*s%s): %u B = %u (i-MIP) + %u (ESP) + %u (x-MIP)\n", int(s.name.size()), s.name.data(),
              o.nat ? ", NAT-T" : "", mip + st.mn_out->max_overhead() + mip, mip, st.mn_out->max_overhead(), mip);
  return 0;
}

/* The appliance's triple decapsulation on a stream of packets, in bursts. */
void throughput(Stack& st, const Opts& o) {
  constexpr uint16_t kBurst = 32;
  constexpr uint32_t kPool = 512;
  std::vector<Buf> pool;
  pool.reserve(kPool);
  for (uint32_t i = 0; i < kPool; ++i) pool.emplace_back(2048 + o.size);
  auto in_sa = st.sa(EspDir::kInbound, 0x1001, kXHoA, kVpnGw, st.mn_out->suite());
  uint64_t delivered = 0, dropped = 0;
  double secs = 0;
  for (uint32_t done = 0; done < o.packets; done += kPool) {
    /* The mobile node side (not timed): build a pool of triple-encapsulated packets. */
    for (uint32_t i = 0; i < kPool; ++i) {
      PktView& v = pool[i].v;
      user_packet(v, kIHoA, kCn, o.size, static_cast<uint16_t>(i));
      check(st.mip_encap(v, kVpnTia, kIHa), "i-MIP encap");
      PktView* p = &v;
      if (esp_outb_process(*st.eng, *st.mn_out, &p, 1) != 1) fail("ESP outbound");
      check(st.mip_encap(v, kCoA, kXHa), "x-MIP encap");
    }
    const auto t0 = std::chrono::steady_clock::now();
    for (uint32_t i = 0; i < kPool; i += kBurst) {
      PktView* burst[kBurst];
      uint16_t n = 0;
      for (uint16_t j = 0; j < kBurst; ++j) {
        PktView& v = pool[i + j].v;
        if (st.mip_decap(v) == CodecError::kOk)
          burst[n++] = &v;
        else
          ++dropped;
      }
      const uint16_t good = esp_inb_process(*st.eng, *in_sa, burst, n);
      dropped += n - good;
      for (uint16_t j = 0; j < good; ++j) {
        if (st.mip_decap(*burst[j]) == CodecError::kOk)
          ++delivered;
        else
          ++dropped;
      }
    }
    secs += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  }
  std::printf("\nCombined appliance, triple decapsulation on one core (bursts of %u):\n", kBurst);
  std::printf("  %llu packets delivered, %llu dropped, %.2f Mpps, %.2f Gbit/s of user packets\n",
              static_cast<unsigned long long>(delivered), static_cast<unsigned long long>(dropped),
              delivered / secs / 1e6, delivered * o.size * 8 / secs / 1e9);
  const EspSaStats& s = in_sa->stats();
  std::printf("  ESP SA 0x1001 inbound: %llu packets, %llu bytes, %llu auth failures, %llu replays\n",
              static_cast<unsigned long long>(s.packets), static_cast<unsigned long long>(s.bytes),
              static_cast<unsigned long long>(s.drop(EspDrop::kAuthFailed)),
              static_cast<unsigned long long>(s.drop(EspDrop::kReplayed)));
}

}  // namespace

int main(int argc, char** argv) {
  Opts o;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    if (a == "--nat") {
      o.nat = true;
    } else if (a == "--cipher" && i + 1 < argc) {
      o.cipher = argv[++i];
    } else if (a == "--packets" && i + 1 < argc) {
      o.packets = static_cast<uint32_t>(std::strtoul(argv[++i], nullptr, 10));
    } else if (a == "--size" && i + 1 < argc) {
      o.size = static_cast<uint32_t>(std::strtoul(argv[++i], nullptr, 10));
      if (o.size < 28 || o.size > 1400) fail("--size must be 28..1400");
    } else {
      std::fprintf(stderr, "usage: mipvpn-demo [--cipher NAME] [--nat] [--size BYTES] [--packets N]\n");
      return a == "--help" ? 0 : 2;
    }
  }
  std::printf("mipvpn demo: Mobile IPv4 across an IPsec VPN gateway (RFC 5265), all roles in one process\n");
  Stack st(o);
  std::printf("crypto: Intel IPsec-MB, %.*s code path\n", int(st.eng->arch().size()), st.eng->arch().data());
  walkthrough(st, o);
  throughput(st, o);
  if (!o.nat) {
    Opts n = o;
    n.nat = true;
    Stack st2(n);
    walkthrough(st2, n);
  }
  return 0;
}
