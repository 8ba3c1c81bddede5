/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Test driver that exposes the registration codec to interop scripts
 * (scapy, tshark). One message per stdin line, one result line each.
 *
 *   mip_tool parse SPI KEYHEX   <- hex message
 *     -> "ok req flags=F lifetime=L home=A ha=A coa=A id=HEX16 EXTS auth=R"
 *      | "ok rep code=C lifetime=L home=A ha=A id=HEX16 EXTS auth=R"
 *      | "err REASON"
 *     EXTS: count=N skipped=N nai=HEX|- utrq=sub,res1,f,r,res2,encap,res3|-
 *           utrp=sub,code,f,res,keepalive|- rev=i,res,ts|- tnc=0|1
 *           tnc_covered=0|1 spi=SPI|-; R is to_string(verify) with SPI/KEY.
 *   mip_tool build SPI KEYHEX   <- "key=value ..." -> hex message | "err REASON"
 *     kind=req|rep flags=N code=N lifetime=N home=A ha=A coa=A id=HEX16
 *     nai=TEXT utrq=sub,f,r,encap utrp=code,f,keepalive rev=i,ts
 *     tnc=before|after|sub:N raw=TYPE:HEX (repeatable, in order) auth=0|1
 *     Extensions go in the order nai, utrq, utrp, rev, raw..., tnc=before,
 *     the MN-HA auth, tnc=after.
 *   mip_tool ha SPI KEYHEX ROLE  <- "REQHEX src=A sport=N internal=0|1 now=UNIXSECONDS"
 *     -> zero or more "log LINE", then "reply HEX" | "drop REASON"
 *     A home agent at 10.1.0.1 (max lifetime 1800, keepalive 110) serving
 *     the mobile node 10.1.0.5 / mn5@example.org with SPI/KEY. ROLE: xha,
 *     xha-internal-drop, or iha:PREFIX[,PREFIX...] (trusted subnets).
 */
#include <cstdio>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "ha/home_agent.h"
#include "mip/auth.h"
#include "mip/msg.h"
#include "mip/replay.h"

#include "../common/hex.h"

using namespace mipvpn;

namespace {

using test::from_hex;
using test::to_hex;

std::string hex16(uint64_t v) {
  char b[17];
  std::snprintf(b, sizeof b, "%016llx", static_cast<unsigned long long>(v));
  return b;
}

std::string exts_line(cbytes m, const MipExts& x, MipHmacMd5& h, const MipSa& sa) {
  std::ostringstream o;
  o << "count=" << x.count << " skipped=" << x.skipped;
  o << " nai=" << (x.has_nai ? to_hex(x.nai) : "-");
  o << " utrq=";
  if (x.has_udp_tun_req) {
    const auto& q = x.udp_tun_req;
    o << int(q.sub_type) << ',' << int(q.reserved1) << ',' << q.f << ',' << q.r << ','
      << int(q.reserved2) << ',' << int(q.encap) << ',' << q.reserved3;
  } else {
    o << '-';
  }
  o << " utrp=";
  if (x.has_udp_tun_rep) {
    const auto& q = x.udp_tun_rep;
    o << int(q.sub_type) << ',' << int(q.code) << ',' << q.f << ',' << q.reserved << ','
      << q.keepalive;
  } else {
    o << '-';
  }
  o << " rev=";
  if (x.has_rev_support) {
    o << x.rev_support.i << ',' << x.rev_support.reserved << ',' << x.rev_support.timestamp;
  } else {
    o << '-';
  }
  o << " tnc=" << x.tnc << " tnc_covered=" << x.tnc_before_auth;
  o << " spi=";
  if (x.mn_ha.present) o << x.mn_ha.spi; else o << '-';
  o << " auth=" << to_string(mip_verify_mn_ha(h, sa, m, x));
  return o.str();
}

int parse_cmd(MipHmacMd5& h, const MipSa& sa) {
  std::string line;
  std::vector<std::byte> m;
  while (std::getline(std::cin, line)) {
    if (!from_hex(line, &m)) {
      std::cout << "err bad_hex\n";
      continue;
    }
    auto x = mip_scan_extensions(m);
    if (!x) {
      std::cout << "err " << to_string(x.error()) << '\n';
      continue;
    }
    if (auto rq = mip_parse_request(m)) {
      std::cout << "ok req flags=" << int(rq->flags()) << " lifetime=" << rq->lifetime
                << " home=" << rq->home_addr.str() << " ha=" << rq->home_agent.str()
                << " coa=" << rq->care_of.str() << " id=" << hex16(rq->id) << ' '
                << exts_line(m, *x, h, sa) << '\n';
    } else if (auto rp = mip_parse_reply(m)) {
      std::cout << "ok rep code=" << int(rp->code) << " lifetime=" << rp->lifetime
                << " home=" << rp->home_addr.str() << " ha=" << rp->home_agent.str()
                << " id=" << hex16(rp->id) << ' ' << exts_line(m, *x, h, sa) << '\n';
    } else {
      std::cout << "err " << to_string(rq.error()) << '\n';
    }
  }
  return 0;
}

std::vector<unsigned long long> nums(const std::string& s) {
  std::vector<unsigned long long> v;
  std::istringstream in(s);
  std::string part;
  while (std::getline(in, part, ',')) v.push_back(std::stoull(part, nullptr, 0));
  return v;
}

Ipv4Addr addr(const std::string& s) { return Ipv4Addr::parse(s).value_or(Ipv4Addr()); }

std::string build_one(const std::string& line, MipHmacMd5& h, const MipSa& sa) {
  std::istringstream in(line);
  std::string tok;
  std::string kind = "req", nai, utrq, utrp, rev, tnc;
  std::vector<std::string> raws;
  MipRequest rq;
  MipReply rp;
  bool auth = true;
  while (in >> tok) {
    const auto eq = tok.find('=');
    if (eq == std::string::npos) return "err bad_spec";
    const std::string k = tok.substr(0, eq), v = tok.substr(eq + 1);
    if (k == "kind") kind = v;
    else if (k == "flags") {
      const auto f = std::stoul(v, nullptr, 0);
      rq.s = f & kMipFlagS, rq.b = f & kMipFlagB, rq.d = f & kMipFlagD, rq.m = f & kMipFlagM;
      rq.g = f & kMipFlagG, rq.r = f & kMipFlagR, rq.t = f & kMipFlagT, rq.x = f & kMipFlagX;
    } else if (k == "code") rp.code = static_cast<uint8_t>(std::stoul(v, nullptr, 0));
    else if (k == "lifetime") rq.lifetime = rp.lifetime = static_cast<uint16_t>(std::stoul(v, nullptr, 0));
    else if (k == "home") rq.home_addr = rp.home_addr = addr(v);
    else if (k == "ha") rq.home_agent = rp.home_agent = addr(v);
    else if (k == "coa") rq.care_of = addr(v);
    else if (k == "id") rq.id = rp.id = std::stoull(v, nullptr, 16);
    else if (k == "nai") nai = v;
    else if (k == "utrq") utrq = v;
    else if (k == "utrp") utrp = v;
    else if (k == "rev") rev = v;
    else if (k == "tnc") tnc = v;
    else if (k == "raw") raws.push_back(v);
    else if (k == "auth") auth = v != "0";
    else return "err bad_spec";
  }
  std::vector<std::byte> buf(2048);
  MipMsgBuilder b(buf);
  if (kind == "req") b.request(rq); else b.reply(rp);
  if (!nai.empty()) b.add_nai(nai);
  if (!utrq.empty()) {
    const auto n = nums(utrq);
    if (n.size() != 4) return "err bad_spec";
    b.add_udp_tunnel_request(MipUdpTunnelReq{.sub_type = static_cast<uint8_t>(n[0]), .f = n[1] != 0,
                                             .r = n[2] != 0, .encap = static_cast<uint8_t>(n[3])});
  }
  if (!utrp.empty()) {
    const auto n = nums(utrp);
    if (n.size() != 3) return "err bad_spec";
    b.add_udp_tunnel_reply(MipUdpTunnelRep{.code = static_cast<uint8_t>(n[0]), .f = n[1] != 0,
                                           .keepalive = static_cast<uint16_t>(n[2])});
  }
  if (!rev.empty()) {
    const auto n = nums(rev);
    if (n.size() != 2) return "err bad_spec";
    b.add_revocation_support(MipRevSupport{.i = n[0] != 0, .timestamp = static_cast<uint32_t>(n[1])});
  }
  for (const auto& r : raws) {
    const auto c = r.find(':');
    std::vector<std::byte> d;
    if (c == std::string::npos || !from_hex(r.substr(c + 1), &d)) return "err bad_spec";
    b.add_raw(static_cast<uint8_t>(std::stoul(r.substr(0, c), nullptr, 0)), d);
  }
  if (tnc == "before") b.add_tnc();
  if (tnc.rfind("sub:", 0) == 0) b.add_tnc(static_cast<uint8_t>(std::stoul(tnc.substr(4))));
  if (auth) mip_add_auth(b, h, sa);
  if (tnc == "after") b.add_tnc();
  if (b.error() != MipError::kOk) return "err " + std::string(to_string(b.error()));
  return to_hex(b.msg());
}

int ha_cmd(const MipSa& sa, const std::string& role) {
  HaConfig cfg;
  cfg.addresses = {Ipv4Addr(10, 1, 0, 1)};
  cfg.max_lifetime = 1800;
  cfg.keepalive_s = 110;
  if (role == "xha-internal-drop") {
    cfg.drop_from_internal = true;
  } else if (role.rfind("iha:", 0) == 0) {
    cfg.role = HaRole::kIha;
    std::istringstream in(role.substr(4));
    std::string p;
    while (std::getline(in, p, ',')) {
      const auto pr = Ipv4Prefix::parse(p);
      if (!pr) {
        std::cerr << "bad prefix " << p << '\n';
        return 2;
      }
      cfg.trusted.push_back(*pr);
    }
  } else if (role != "xha") {
    std::cerr << "bad role " << role << '\n';
    return 2;
  }
  HomeAgent ha(cfg);
  HaMobileNode mn;
  mn.home = Ipv4Addr(10, 1, 0, 5);
  mn.nai = "mn5@example.org";
  mn.sa = sa;
  if (ha.add_mobile_node(mn) != MipError::kOk) {
    std::cerr << "bad SA\n";
    return 2;
  }
  ha.set_log_sink([](std::string_view l) { std::cout << "log " << l << '\n'; });
  std::string line;
  std::vector<std::byte> m, out(2048);
  while (std::getline(std::cin, line)) {
    std::istringstream in(line);
    std::string hexs, tok;
    in >> hexs;
    RequestMeta meta;
    meta.dst = cfg.addresses[0];
    while (in >> tok) {
      const auto eq = tok.find('=');
      const std::string k = tok.substr(0, eq), v = eq == std::string::npos ? "" : tok.substr(eq + 1);
      if (k == "src") meta.src = addr(v);
      else if (k == "sport") meta.src_port = static_cast<uint16_t>(std::stoul(v));
      else if (k == "internal") meta.internal_iface = v == "1";
      else if (k == "now") meta.now_ntp = mip_ntp_from_unix(std::stoull(v));
    }
    if (!from_hex(hexs, &m)) {
      std::cout << "drop bad_hex\n";
      continue;
    }
    const HaVerdict vd = ha.process_request(m, meta, out);
    if (vd.reply) std::cout << "reply " << to_hex(cbytes(out).first(vd.len)) << '\n';
    else std::cout << "drop " << to_string(vd.drop) << '\n';
    std::cout.flush();
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4 && !(argc == 5 && std::string(argv[1]) == "ha")) {
    std::cerr << "usage: mip_tool parse|build SPI KEYHEX | mip_tool ha SPI KEYHEX ROLE\n";
    return 2;
  }
  MipSa sa;
  sa.spi = static_cast<uint32_t>(std::stoul(argv[2], nullptr, 0));
  std::vector<std::byte> key;
  if (!from_hex(argv[3], &key) || sa.set_key(key) != MipError::kOk) {
    std::cerr << "bad key\n";
    return 2;
  }
  MipHmacMd5 h;
  if (h.init_error() != MipError::kOk) {
    std::cerr << "IPsec-MB init failed\n";
    return 2;
  }
  const std::string cmd = argv[1];
  if (cmd == "ha") return ha_cmd(sa, argv[4]);
  if (cmd == "parse") return parse_cmd(h, sa);
  if (cmd == "build") {
    std::string line;
    while (std::getline(std::cin, line)) std::cout << build_one(line, h, sa) << '\n';
    return 0;
  }
  std::cerr << "unknown command " << cmd << '\n';
  return 2;
}
