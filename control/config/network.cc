/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ports, neighbours (static ARP entries) and routes. A port's address
 * implies its connected subnet; a route's next hop must lie on one.
 */
#include <set>
#include <utility>
#include <string>

#include "config/sections.h"
#include "config/values.h"

namespace mipvpn::cfg {

int port_on_subnet(const Config& c, Ipv4Addr a) {
  for (size_t i = 0; i < c.ports.size(); ++i)
    if (c.ports[i].address.on_subnet(a)) return static_cast<int>(i);
  return -1;
}

namespace {

std::string prefix_str(const Ipv4Prefix& p) { return p.addr.str() + "/" + std::to_string(p.len); }

void read_ports(Reader& r, const Setting& root, Config* c) {
  const Setting* ps = r.child(root, "", "ports", false);
  std::vector<const Setting*> elems;
  if (!ps) {
    r.file_error("no ports are configured; add ports = ( { name = ...; device = ...; address = ...; } )");
    return;
  }
  if (!r.groups(*ps, "ports", &elems)) return;
  if (elems.empty()) r.error(*ps, "ports", "at least one port is needed");
  std::set<std::string> names, devices;
  for (size_t i = 0; i < elems.size(); ++i) {
    if (!elems[i]) continue;
    const Setting& g = *elems[i];
    const std::string p = index("ports", i);
    r.check_group(g, p, {"name", "device", "address", "mtu", "internal", "mac"});
    PortConfig port;
    if (r.need(g, p, "name", &port.name, &Reader::str)) {
      if (port.name.empty())
        r.error(g["name"], join(p, "name"), "a port name cannot be empty");
      else if (!names.insert(port.name).second)
        r.error(g["name"], join(p, "name"), "port name '" + port.name + "' is used twice; names must be unique");
    }
    if (r.need(g, p, "device", &port.device, &Reader::str)) {
      std::string why;
      if (!check_device(port.device, &why))
        r.error(g["device"], join(p, "device"), "'" + port.device + "' " + why);
      else if (!devices.insert(std::string(device_name(port.device))).second)
        r.error(g["device"], join(p, "device"),
                "device '" + std::string(device_name(port.device)) + "' is given to two ports");
    }
    r.need(g, p, "address", &port.address, &Reader::ifaddr);
    r.opt_int(g, p, "mtu", 576, 9000, &port.mtu);
    r.opt(g, p, "internal", &port.internal, &Reader::boolean);
    MacAddr m{};
    if (r.opt(g, p, "mac", &m, &Reader::mac)) port.mac = m;
    /* Overlapping subnets make the port of a next hop ambiguous. */
    if (g.exists("address") && port.address.len != 0) {
      const Ipv4Prefix mine = port.address.subnet();
      for (const PortConfig& o : c->ports) {
        const Ipv4Prefix theirs = o.address.subnet();
        if (o.address.len != 0 && (mine.contains(theirs.addr) || theirs.contains(mine.addr)))
          r.warning(g["address"], join(p, "address"),
                    "subnet " + prefix_str(mine) + " overlaps port '" + o.name + "' (" + prefix_str(theirs) +
                        "); next hops on both go to the first");
      }
    }
    c->ports.push_back(std::move(port));
  }
}

int port_by_name(const Config& c, const std::string& name) {
  for (size_t i = 0; i < c.ports.size(); ++i)
    if (c.ports[i].name == name) return static_cast<int>(i);
  return -1;
}

/* The port named by member "port" of g, or -1 (reported when unknown). */
int named_port(Reader& r, const Setting& g, const std::string& p, const Config& c, bool required) {
  std::string name;
  if (!(required ? r.need(g, p, "port", &name, &Reader::str) : r.opt(g, p, "port", &name, &Reader::str)))
    return -1;
  const int i = port_by_name(c, name);
  if (i < 0) r.error(g["port"], join(p, "port"), "there is no port named '" + name + "'");
  return i;
}

void read_neighbours(Reader& r, const Setting& root, Config* c) {
  const Setting* ns = r.child(root, "", "neighbours", false);
  std::vector<const Setting*> elems;
  if (!ns || !r.groups(*ns, "neighbours", &elems)) return;
  std::set<uint32_t> seen;
  for (size_t i = 0; i < elems.size(); ++i) {
    if (!elems[i]) continue;
    const Setting& g = *elems[i];
    const std::string p = index("neighbours", i);
    r.check_group(g, p, {"address", "mac", "port"});
    NeighbourConfig n;
    const bool have_addr = r.need(g, p, "address", &n.address, &Reader::addr);
    r.need(g, p, "mac", &n.mac, &Reader::mac);
    const int port = named_port(r, g, p, *c, true);
    if (have_addr && !seen.insert(n.address.host()).second)
      r.error(g["address"], join(p, "address"), n.address.str() + " has two static entries");
    if (have_addr && port >= 0) {
      const PortConfig& pc = c->ports[static_cast<size_t>(port)];
      if (!pc.address.on_subnet(n.address))
        r.error(g["address"], join(p, "address"),
                n.address.str() + " is not on port '" + pc.name + "' (subnet " +
                    prefix_str(pc.address.subnet()) + ")");
    }
    if (port >= 0) n.port = static_cast<uint32_t>(port);
    c->neighbours.push_back(n);
  }
}

void read_routes(Reader& r, const Setting& root, Config* c) {
  const Setting* rs = r.child(root, "", "routes", false);
  std::vector<const Setting*> elems;
  if (!rs || !r.groups(*rs, "routes", &elems)) return;
  std::set<std::pair<uint32_t, uint8_t>> prefixes;
  for (size_t i = 0; i < elems.size(); ++i) {
    if (!elems[i]) continue;
    const Setting& g = *elems[i];
    const std::string p = index("routes", i);
    r.check_group(g, p, {"prefix", "via", "port"});
    RouteConfig rt;
    if (r.need(g, p, "prefix", &rt.prefix, &Reader::prefix) &&
        !prefixes.insert({rt.prefix.addr.host(), rt.prefix.len}).second)
      r.error(g["prefix"], join(p, "prefix"), "there is already a route to " + prefix_str(rt.prefix));
    const bool have_via = r.need(g, p, "via", &rt.via, &Reader::addr);
    const bool named = g.exists("port");
    int port = named_port(r, g, p, *c, false);
    if (have_via) {
      if (named && port >= 0) {
        const PortConfig& pc = c->ports[static_cast<size_t>(port)];
        if (!pc.address.on_subnet(rt.via))
          r.error(g["via"], join(p, "via"),
                  "next hop " + rt.via.str() + " is not on port '" + pc.name + "' (subnet " +
                      prefix_str(pc.address.subnet()) + ")");
      } else if (!named) {
        port = port_on_subnet(*c, rt.via);
        if (port < 0)
          r.error(g["via"], join(p, "via"),
                  "next hop " + rt.via.str() + " is not on any port's connected subnet");
      }
    }
    if (port >= 0) rt.port = static_cast<uint32_t>(port);
    c->routes.push_back(rt);
  }
}

}  // namespace

void read_network(Reader& r, const Setting& root, Config* c) {
  read_ports(r, root, c);
  read_neighbours(r, root, c);
  read_routes(r, root, c);
}

}  // namespace mipvpn::cfg
