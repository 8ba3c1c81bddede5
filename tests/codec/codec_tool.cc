/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Test driver that exposes the codecs to interop scripts (scapy, tshark).
 * Reads one hex-encoded packet per line on stdin, writes one result line
 * per packet on stdout.
 *
 *   codec_tool ipv4-parse    -> "ok hdr_len total_len proto ttl tos df src dst" | "err REASON"
 *   codec_tool ipv4-build    <- "src dst proto ttl tos id df payload_len" -> hex header
 */
#include <cstdio>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "codec/ipv4.h"

using namespace mipvpn;

namespace {

bool from_hex(const std::string& s, std::vector<std::byte>* out) {
  if (s.size() % 2) return false;
  out->clear();
  for (size_t i = 0; i < s.size(); i += 2) {
    unsigned v = 0;
    if (std::sscanf(s.c_str() + i, "%2x", &v) != 1) return false;
    out->push_back(std::byte(v));
  }
  return true;
}

std::string to_hex(cbytes b) {
  static const char* d = "0123456789abcdef";
  std::string s;
  for (auto x : b) {
    s += d[std::to_integer<unsigned>(x) >> 4];
    s += d[std::to_integer<unsigned>(x) & 15];
  }
  return s;
}

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

}  // namespace

int main(int argc, char** argv) {
  const std::string cmd = argc > 1 ? argv[1] : "";
  if (cmd == "ipv4-parse") return ipv4_parse_cmd();
  if (cmd == "ipv4-build") return ipv4_build_cmd();
  std::cerr << "usage: codec_tool ipv4-parse|ipv4-build < lines\n";
  return 2;
}
