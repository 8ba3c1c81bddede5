/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The ike section: the TUN interface that bridges IKE (RFC 7296 on UDP
 * 500, RFC 3948 2.2 on UDP 4500) between the wire and an IKE daemon on
 * the host (docs/ike.md).
 */
#include <string>

#include "config/sections.h"
#include "config/values.h"

namespace mipvpn::cfg {
namespace {

/* A Linux interface name: 1..15 bytes (IFNAMSIZ - 1), no '/', no blanks,
 * not "." or ".." (dev_valid_name()); we allow the usual letters only,
 * which also keeps it safe inside a DPDK device argument string. */
bool valid_ifname(const std::string& n, std::string* why) {
  if (n.empty() || n.size() > 15) {
    *why = "must be 1 to 15 characters long (a Linux interface name)";
    return false;
  }
  if (n == "." || n == "..") {
    *why = "is not a valid interface name";
    return false;
  }
  for (char ch : n) {
    const bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
                    ch == '_' || ch == '-' || ch == '.';
    if (!ok) {
      *why = "may hold only letters, digits, '_', '-' and '.'";
      return false;
    }
  }
  return true;
}

/* The iface= argument of a net_tap / net_tun port device, or "". */
std::string tap_iface_of(const std::string& device) {
  const std::string_view name = device_name(device);
  if (name.rfind("net_tap", 0) != 0 && name.rfind("net_tun", 0) != 0) return "";
  size_t at = device.find(",iface=");
  if (at == std::string::npos) return "";
  at += 7;
  const size_t end = device.find(',', at);
  return device.substr(at, end == std::string::npos ? std::string::npos : end - at);
}

}  // namespace

IkeConfig read_ike_section(Reader& r, const Setting& s, const Config& c, bool roles_known) {
  IkeConfig ike;
  if (!r.check_group(s, "ike", {"tap", "mtu"})) return ike;
  /* IKE is punted to the control thread only for vpngw.address. */
  if (roles_known && !c.roles.vpngw)
    r.error(s, "ike",
            "IKE reaches the appliance only at the VPN gateway's address; add \"vpngw\" to roles or "
            "remove the section");
  if (r.need(s, "ike", "tap", &ike.tap, &Reader::str)) {
    std::string why;
    if (!valid_ifname(ike.tap, &why)) {
      r.error(s["tap"], "ike.tap", "'" + ike.tap + "' " + why);
    } else {
      for (const PortConfig& p : c.ports)
        if (tap_iface_of(p.device) == ike.tap)
          r.error(s["tap"], "ike.tap", "interface '" + ike.tap + "' is already port '" + p.name + "'");
    }
  }
  /* Single 2048-byte mbufs, as the ports (dataplane/runtime/README.md). */
  r.opt_int(s, "ike", "mtu", 576, 2030, &ike.mtu);
  return ike;
}

}  // namespace mipvpn::cfg
