/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Test driver: runs the packets of a pcap through one ESP SA of ours and
 * writes the result as a raw-IPv4 pcap, so that peers nobody here wrote
 * (tshark, scapy) can check our output and feed us theirs.
 *
 *   esp_tool encrypt|decrypt --cipher NAME --spi N --key HEX [--auth-key HEX]
 *            --src A --dst B [--natt SPORT:DPORT] [--esn] [--window N]
 *            [--burst N] --in IN.pcap --out OUT.pcap
 *
 * Prints one JSON line: {"in":N,"good":N,"drops":{"reason":N,...}}.
 * Input pcaps may be raw IPv4 or Ethernet.
 */
#include <pcap/pcap.h>

#include <charconv>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "codec/ipv4.h"
#include "crypto/esp.h"

using namespace mipvpn;

namespace {

[[noreturn]] void die(const std::string& msg) {
  std::fprintf(stderr, "esp_tool: %s\n", msg.c_str());
  std::exit(2);
}

std::vector<uint8_t> from_hex(std::string_view s) {
  if (s.starts_with("0x")) s.remove_prefix(2);
  if (s.size() % 2) die("odd-length hex key");
  std::vector<uint8_t> out;
  for (size_t i = 0; i < s.size(); i += 2) {
    uint8_t v = 0;
    auto [p, ec] = std::from_chars(s.data() + i, s.data() + i + 2, v, 16);
    if (ec != std::errc{} || p != s.data() + i + 2) die("bad hex key");
    out.push_back(v);
  }
  return out;
}

Ipv4Addr addr(const char* s) {
  auto a = Ipv4Addr::parse(s);
  if (!a) die(std::string("bad address ") + s);
  return *a;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) die("usage: esp_tool encrypt|decrypt --cipher NAME --spi N --key HEX ...");
  const std::string_view mode = argv[1];
  if (mode != "encrypt" && mode != "decrypt") die("mode must be encrypt or decrypt");
  std::string cipher, in_path, out_path;
  std::vector<uint8_t> key, auth_key;
  EspSaConfig c;
  unsigned burst = 32;
  for (int i = 2; i < argc; ++i) {
    std::string_view a = argv[i];
    if (a == "--esn") {
      c.esn = true;
      continue;
    }
    if (i + 1 >= argc) die(std::string(a) + " needs a value");
    const char* v = argv[++i];
    if (a == "--cipher") cipher = v;
    else if (a == "--spi") c.spi = static_cast<uint32_t>(std::stoul(v, nullptr, 0));
    else if (a == "--key") key = from_hex(v);
    else if (a == "--auth-key") auth_key = from_hex(v);
    else if (a == "--src") c.tun_src = addr(v);
    else if (a == "--dst") c.tun_dst = addr(v);
    else if (a == "--window") c.replay_window = static_cast<uint32_t>(std::stoul(v));
    else if (a == "--burst") burst = static_cast<unsigned>(std::stoul(v));
    else if (a == "--in") in_path = v;
    else if (a == "--out") out_path = v;
    else if (a == "--natt") {
      unsigned sp = 0, dp = 0;
      if (std::sscanf(v, "%u:%u", &sp, &dp) != 2) die("--natt wants SPORT:DPORT");
      c.natt_sport = static_cast<uint16_t>(sp);
      c.natt_dport = static_cast<uint16_t>(dp);
    } else die("unknown option " + std::string(a));
  }
  if (burst < 1 || burst > kMaxBurst) die("--burst must be 1..256");
  c.suite = esp_suite_by_name(cipher);
  if (!c.suite) die("unknown cipher " + cipher);
  c.dir = mode == "encrypt" ? EspDir::kOutbound : EspDir::kInbound;
  c.cipher_key = key;
  c.auth_key = auth_key;
  std::string err;
  auto sa = EspSa::create(c, &err);
  if (!sa) die("SA refused: " + err);
  auto eng = EspEngine::create(&err);
  if (!eng) die("engine: " + err);

  char ebuf[PCAP_ERRBUF_SIZE];
  pcap_t* in = pcap_open_offline(in_path.c_str(), ebuf);
  if (!in) die(std::string("open ") + in_path + ": " + ebuf);
  const int dlt = pcap_datalink(in);
  size_t l2 = 0;
  if (dlt == DLT_EN10MB) l2 = 14;
  else if (dlt != DLT_RAW && dlt != DLT_IPV4) die("input pcap must be Ethernet or raw IPv4");

  /* Read everything first: packets in buffers with head- and tailroom. */
  constexpr uint32_t kRoom = 256;
  std::vector<std::vector<std::byte>> bufs;
  std::vector<PktView> views;
  pcap_pkthdr* h;
  const u_char* d;
  while (pcap_next_ex(in, &h, &d) == 1) {
    if (h->caplen < l2) continue;
    const uint32_t len = h->caplen - static_cast<uint32_t>(l2);
    bufs.emplace_back(kRoom + len + kRoom);
    std::memcpy(bufs.back().data() + kRoom, d + l2, len);
  }
  pcap_close(in);
  for (auto& b : bufs) {
    PktView v;
    v.buf = b.data();
    v.buf_len = static_cast<uint32_t>(b.size());
    v.data_off = kRoom;
    v.data_len = static_cast<uint32_t>(b.size()) - 2 * kRoom;
    views.push_back(v);
  }

  pcap_t* dead = pcap_open_dead(DLT_RAW, 65535);
  pcap_dumper_t* out = pcap_dump_open(dead, out_path.c_str());
  if (!out) die(std::string("open ") + out_path + ": " + pcap_geterr(dead));
  uint64_t good_total = 0;
  for (size_t i = 0; i < views.size(); i += burst) {
    const uint16_t n = static_cast<uint16_t>(std::min<size_t>(burst, views.size() - i));
    PktView* ptrs[kMaxBurst];
    for (uint16_t j = 0; j < n; ++j) ptrs[j] = &views[i + j];
    const uint16_t good = c.dir == EspDir::kOutbound ? esp_outb_process(*eng, *sa, ptrs, n)
                                                     : esp_inb_process(*eng, *sa, ptrs, n);
    good_total += good;
    for (uint16_t j = 0; j < good; ++j) {
      pcap_pkthdr oh{};
      oh.caplen = oh.len = ptrs[j]->data_len;
      oh.ts.tv_sec = static_cast<time_t>(i + j);
      pcap_dump(reinterpret_cast<u_char*>(out), &oh, reinterpret_cast<const u_char*>(ptrs[j]->data()));
    }
  }
  pcap_dump_close(out);
  pcap_close(dead);

  const EspSaStats& st = sa->stats();
  std::printf("{\"in\":%zu,\"good\":%llu,\"packets\":%llu,\"drops\":{", views.size(),
              static_cast<unsigned long long>(good_total), static_cast<unsigned long long>(st.packets));
  bool first = true;
  for (size_t r = 1; r < static_cast<size_t>(EspDrop::kCount); ++r) {
    if (!st.drops[r]) continue;
    std::printf("%s\"%s\":%llu", first ? "" : ",", std::string(to_string(static_cast<EspDrop>(r))).c_str(),
                static_cast<unsigned long long>(st.drops[r]));
    first = false;
  }
  std::printf("}}\n");
  return 0;
}
