/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Test driver that exposes the codecs to interop scripts (scapy, tshark).
 * Reads one hex-encoded packet per line on stdin, writes one result line
 * per packet on stdout.
 *
 *   codec_tool ipv4-parse    -> "ok hdr_len total_len proto ttl tos df src dst" | "err REASON"
 *   codec_tool ipv4-build    <- "src dst proto ttl tos id df payload_len" -> hex header
 *   codec_tool ipip-decap    <- hex -> "ok src dst tos ttl INNERHEX" | "err REASON"
 *   codec_tool ipip-encap    <- "src dst id ttl always_df INNERHEX" -> hex | "err REASON"
 *   codec_tool mip-decap     <- hex -> "ok src dst sport dport INNERHEX" | "err REASON"
 *   codec_tool mip-encap     <- "src dst sport dport id ttl always_df udp_csum INNERHEX"
 *                               -> hex | "err REASON"
 *   codec_tool mip-classify  <- hex UDP payload -> "tunnel" | "rrq" | "rrp" | "other"
 *   codec_tool natt-demux    <- hex -> "ok esp|ike|keepalive SPI src dst sport dport off len"
 *                               | "err REASON"
 *   codec_tool natt-decap    <- hex (IP/UDP/ESP) -> hex (IP/ESP) | "err REASON"
 *   codec_tool natt-encap    <- "sport dport HEX" (IP/ESP) -> hex (IP/UDP/ESP) | "err REASON"
 */
#include <cstdio>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "codec/ipip.h"
#include "codec/ipv4.h"
#include "codec/mip_tunnel.h"
#include "codec/natt.h"

#include "../common/hex.h"

using namespace mipvpn;

namespace {

using test::from_hex;
using test::to_hex;

int ipv4_parse_cmd() {
  std::string line;
  std::vector<std::byte> pkt;
  while (std::getline(std::cin, line)) {
    if (!from_hex(line, &pkt)) {
      std::cout << "err bad_hex\n";
      continue;
    }
    auto r = ipv4_parse(pkt);
    if (!r) {
      std::cout << "err " << to_string(r.error()) << '\n';
      continue;
    }
    std::cout << "ok " << r->hdr_len << ' ' << r->total_len << ' ' << int(r->proto) << ' '
              << int(r->ttl) << ' ' << int(r->tos) << ' ' << r->df << ' ' << r->src.str() << ' '
              << r->dst.str() << '\n';
  }
  return 0;
}

int ipv4_build_cmd() {
  std::string line;
  while (std::getline(std::cin, line)) {
    std::istringstream in(line);
    std::string src, dst;
    unsigned proto, ttl, tos, id, df, plen;
    if (!(in >> src >> dst >> proto >> ttl >> tos >> id >> df >> plen)) return 2;
    auto s = Ipv4Addr::parse(src), d = Ipv4Addr::parse(dst);
    if (!s || !d) return 2;
    std::byte hdr[kIpv4HdrLen];
    ipv4_build(hdr, {.src = *s, .dst = *d, .total_len = static_cast<uint16_t>(kIpv4HdrLen + plen),
                     .id = static_cast<uint16_t>(id), .proto = static_cast<uint8_t>(proto),
                     .ttl = static_cast<uint8_t>(ttl), .tos = static_cast<uint8_t>(tos),
                     .df = df != 0});
    std::cout << to_hex(hdr) << '\n';
  }
  return 0;
}

/* A packet in a buffer with headroom, as an mbuf would hold it. */
struct ToolBuf {
  std::vector<std::byte> mem;
  PktView v;
  explicit ToolBuf(const std::vector<std::byte>& pkt, uint32_t headroom = 64)
      : mem(headroom + pkt.size()) {
    std::copy(pkt.begin(), pkt.end(), mem.begin() + headroom);
    v = PktView{.buf = mem.data(), .buf_len = static_cast<uint32_t>(mem.size()),
                .data_off = headroom, .data_len = static_cast<uint32_t>(pkt.size())};
  }
};

/* Run fn(line) for each stdin line; fn prints one result line. */
template <class Fn>
int each_line(Fn fn) {
  std::string line;
  while (std::getline(std::cin, line)) {
    if (!fn(line)) return 2;
  }
  return 0;
}

bool hex_line(const std::string& line, std::vector<std::byte>* pkt) {
  if (from_hex(line, pkt)) return true;
  std::cout << "err bad_hex\n";
  return false;
}

int ipip_decap_cmd() {
  return each_line([](const std::string& line) {
    std::vector<std::byte> pkt;
    if (!hex_line(line, &pkt)) return true;
    ToolBuf b(pkt);
    auto r = ipip_decap(b.v);
    if (!r) {
      std::cout << "err " << to_string(r.error()) << '\n';
    } else {
      std::cout << "ok " << r->src.str() << ' ' << r->dst.str() << ' ' << int(r->tos) << ' '
                << int(r->ttl) << ' ' << to_hex(b.v.bytes()) << '\n';
    }
    return true;
  });
}

int ipip_encap_cmd() {
  return each_line([](const std::string& line) {
    std::istringstream in(line);
    std::string src, dst, hex;
    unsigned id, ttl, df;
    std::vector<std::byte> pkt;
    if (!(in >> src >> dst >> id >> ttl >> df >> hex)) return false;
    auto s = Ipv4Addr::parse(src), d = Ipv4Addr::parse(dst);
    if (!s || !d || !from_hex(hex, &pkt)) return false;
    ToolBuf b(pkt);
    const CodecError e = ipip_encap(b.v, {.src = *s, .dst = *d, .id = static_cast<uint16_t>(id),
                                          .ttl = static_cast<uint8_t>(ttl), .always_df = df != 0});
    if (e != CodecError::kOk)
      std::cout << "err " << to_string(e) << '\n';
    else
      std::cout << to_hex(b.v.bytes()) << '\n';
    return true;
  });
}

int mip_decap_cmd() {
  return each_line([](const std::string& line) {
    std::vector<std::byte> pkt;
    if (!hex_line(line, &pkt)) return true;
    ToolBuf b(pkt);
    auto r = mip_tunnel_decap(b.v);
    if (!r) {
      std::cout << "err " << to_string(r.error()) << '\n';
    } else {
      std::cout << "ok " << r->src.str() << ' ' << r->dst.str() << ' ' << r->sport << ' '
                << r->dport << ' ' << to_hex(b.v.bytes()) << '\n';
    }
    return true;
  });
}

int mip_encap_cmd() {
  return each_line([](const std::string& line) {
    std::istringstream in(line);
    std::string src, dst, hex;
    unsigned sport, dport, id, ttl, df, csum;
    std::vector<std::byte> pkt;
    if (!(in >> src >> dst >> sport >> dport >> id >> ttl >> df >> csum >> hex)) return false;
    auto s = Ipv4Addr::parse(src), d = Ipv4Addr::parse(dst);
    if (!s || !d || !from_hex(hex, &pkt)) return false;
    ToolBuf b(pkt);
    const CodecError e = mip_tunnel_encap(
        b.v, {.src = *s, .dst = *d, .sport = static_cast<uint16_t>(sport),
              .dport = static_cast<uint16_t>(dport), .id = static_cast<uint16_t>(id),
              .ttl = static_cast<uint8_t>(ttl), .always_df = df != 0, .udp_csum = csum != 0});
    if (e != CodecError::kOk)
      std::cout << "err " << to_string(e) << '\n';
    else
      std::cout << to_hex(b.v.bytes()) << '\n';
    return true;
  });
}

int mip_classify_cmd() {
  return each_line([](const std::string& line) {
    std::vector<std::byte> pkt;
    if (!hex_line(line, &pkt)) return true;
    switch (mip_udp_classify(pkt)) {
      case MipUdpKind::kTunnelData: std::cout << "tunnel\n"; break;
      case MipUdpKind::kRegRequest: std::cout << "rrq\n"; break;
      case MipUdpKind::kRegReply: std::cout << "rrp\n"; break;
      case MipUdpKind::kOther: std::cout << "other\n"; break;
    }
    return true;
  });
}

int natt_demux_cmd() {
  return each_line([](const std::string& line) {
    std::vector<std::byte> pkt;
    if (!hex_line(line, &pkt)) return true;
    auto d = natt_demux(pkt);
    if (!d) {
      std::cout << "err " << to_string(d.error()) << '\n';
      return true;
    }
    const char* kind = d->kind == NattKind::kEsp ? "esp" : d->kind == NattKind::kIke ? "ike"
                                                                                       : "keepalive";
    std::cout << "ok " << kind << ' ' << d->spi << ' ' << d->src.str() << ' ' << d->dst.str()
              << ' ' << d->sport << ' ' << d->dport << ' ' << d->payload_off << ' '
              << d->payload_len << '\n';
    return true;
  });
}

int natt_decap_cmd() {
  return each_line([](const std::string& line) {
    std::vector<std::byte> pkt;
    if (!hex_line(line, &pkt)) return true;
    ToolBuf b(pkt);
    const CodecError e = natt_decap(b.v);
    if (e != CodecError::kOk)
      std::cout << "err " << to_string(e) << '\n';
    else
      std::cout << to_hex(b.v.bytes()) << '\n';
    return true;
  });
}

int natt_encap_cmd() {
  return each_line([](const std::string& line) {
    std::istringstream in(line);
    unsigned sport, dport;
    std::string hex;
    std::vector<std::byte> pkt;
    if (!(in >> sport >> dport >> hex) || !from_hex(hex, &pkt)) return false;
    ToolBuf b(pkt);
    const CodecError e =
        natt_encap(b.v, static_cast<uint16_t>(sport), static_cast<uint16_t>(dport));
    if (e != CodecError::kOk)
      std::cout << "err " << to_string(e) << '\n';
    else
      std::cout << to_hex(b.v.bytes()) << '\n';
    return true;
  });
}

}  // namespace

int main(int argc, char** argv) {
  const std::string cmd = argc > 1 ? argv[1] : "";
  if (cmd == "ipv4-parse") return ipv4_parse_cmd();
  if (cmd == "ipv4-build") return ipv4_build_cmd();
  if (cmd == "ipip-decap") return ipip_decap_cmd();
  if (cmd == "ipip-encap") return ipip_encap_cmd();
  if (cmd == "mip-decap") return mip_decap_cmd();
  if (cmd == "mip-encap") return mip_encap_cmd();
  if (cmd == "mip-classify") return mip_classify_cmd();
  if (cmd == "natt-demux") return natt_demux_cmd();
  if (cmd == "natt-decap") return natt_decap_cmd();
  if (cmd == "natt-encap") return natt_encap_cmd();
  std::cerr << "usage: codec_tool ipv4-parse|ipv4-build|ipip-decap|ipip-encap|mip-decap|"
               "mip-encap|mip-classify|natt-demux|natt-decap|natt-encap < lines\n";
  return 2;
}
