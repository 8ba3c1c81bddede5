/* SPDX-License-Identifier: BSD-3-Clause */
#include "mipvpnctl/client.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <sstream>

#include "mipvpnd/ctl_params.h"

namespace mipvpn {

namespace {

bool fail(std::string* err, std::string m) {
  if (err) *err = std::move(m);
  return false;
}

std::string join(const std::vector<std::string_view>& w, size_t from) {
  std::string s;
  for (size_t i = from; i < w.size(); ++i) {
    if (!s.empty()) s += ' ';
    s += w[i];
  }
  return s;
}

}  // namespace

void ctl_usage(std::FILE* f) {
  std::fprintf(f,
               "usage: mipvpnctl [--file-prefix P | --socket PATH] [--json] [--timeout S] COMMAND\n"
               "  stats                         packets through ports, stages, control thread\n"
               "  drops                         every drop reason with its count\n"
               "  bindings [xha|iha [FROM]]     mobility bindings (48 a page, from FROM)\n"
               "  sas                           ESP SAs with their counters\n"
               "  sa add SPI in|out SUITE KEY SRC DST SELECTOR [auth-key HEX] [esn]\n"
               "         [window N] [natt SPORT DPORT]\n"
               "  sa del SPI in|out\n"
               "  binding add xha|iha HOME COA [udp PEER PORT] [lifetime S]   (no lifetime: infinite)\n"
               "  binding del xha|iha HOME\n"
               "  --file-prefix P   the daemon's EAL --file-prefix (default rte)\n"
               "  --socket PATH     the telemetry socket itself\n"
               "  --json            print the daemon's answer as JSON\n"
               "  --timeout S       seconds to wait for a change to be applied (default 5)\n"
               "exit status: 0 done, 1 the daemon refused or did not answer, 2 bad usage\n");
}

bool parse_ctl_args(const std::vector<std::string_view>& a, CtlArgs& out, std::string* err) {
  CtlArgs c;
  size_t i = 0;
  for (; i < a.size() && a[i].size() > 1 && a[i][0] == '-'; ++i) {
    const std::string_view o = a[i];
    if ((o == "--file-prefix" || o == "--socket" || o == "--timeout") && i + 1 >= a.size())
      return fail(err, std::string(o) + " wants a value");
    if (o == "--file-prefix") {
      c.file_prefix = std::string(a[++i]);
      if (c.file_prefix.empty() || c.file_prefix.find('/') != std::string::npos)
        return fail(err, "--file-prefix wants a name without '/'");
    } else if (o == "--socket") {
      c.socket = std::string(a[++i]);
    } else if (o == "--timeout") {
      uint32_t s = 0;
      if (!parse_u32_word(a[++i], s) || s == 0 || s > 3600)
        return fail(err, "--timeout wants seconds 1..3600, not '" + std::string(a[i]) + "'");
      c.timeout_ms = s * 1000;
    } else if (o == "--json") {
      c.json = true;
    } else if (o == "-h" || o == "--help") {
      c.help = true;
      out = c;
      return true;
    } else {
      return fail(err, "unknown option '" + std::string(o) + "'");
    }
  }
  if (i >= a.size()) return fail(err, "no command given");
  const std::vector<std::string_view> w(a.begin() + static_cast<ptrdiff_t>(i), a.end());
  const std::string_view cmd = w[0];
  std::string e;
  if (cmd == "stats" || cmd == "drops" || cmd == "sas") {
    if (w.size() != 1) return fail(err, std::string(cmd) + " takes no arguments");
    c.command = "/mipvpn/" + std::string(cmd);
  } else if (cmd == "bindings") {
    c.params = join(w, 1);
    BindingsParams p;
    if (!parse_bindings(c.params, p, &e)) return fail(err, e);
    c.command = "/mipvpn/bindings";
  } else if ((cmd == "sa" || cmd == "binding") && w.size() >= 2 && (w[1] == "add" || w[1] == "del")) {
    c.params = join(w, 2);
    c.change = true;
    c.command = "/mipvpn/" + std::string(cmd) + "_" + std::string(w[1]);
    bool ok;
    if (cmd == "sa" && w[1] == "add") {
      SaAddParams p;
      ok = parse_sa_add(c.params, p, &e);
    } else if (cmd == "sa") {
      SaDelParams p;
      ok = parse_sa_del(c.params, p, &e);
    } else if (w[1] == "add") {
      BindingAddParams p;
      ok = parse_binding_add(c.params, p, &e);
    } else {
      BindingDelParams p;
      ok = parse_binding_del(c.params, p, &e);
    }
    if (!ok) return fail(err, e);
  } else if (cmd == "sa" || cmd == "binding") {
    return fail(err, std::string(cmd) + " wants 'add' or 'del'");
  } else {
    return fail(err, "unknown command '" + std::string(cmd) + "'");
  }
  /* DPDK's telemetry reads at most 1024 bytes of a request. */
  if (c.command.size() + 1 + c.params.size() >= 1024) return fail(err, "the request is too long");
  out = std::move(c);
  return true;
}

std::string telemetry_socket_path(std::string_view prefix) {
  std::string base;
  if (getuid() == 0) {
    base = "/var/run";
  } else {
    const char* x = std::getenv("XDG_RUNTIME_DIR");
    base = x && *x ? x : "/tmp";
  }
  return base + "/dpdk/" + std::string(prefix) + "/dpdk_telemetry.v2";
}

TelClient::~TelClient() {
  if (fd_ >= 0) ::close(fd_);
}

bool TelClient::connect(const std::string& path, std::string* err) {
  sockaddr_un sun{};
  if (path.size() >= sizeof sun.sun_path) return fail(err, "socket path too long: " + path);
  fd_ = ::socket(AF_UNIX, SOCK_SEQPACKET, 0);
  if (fd_ < 0) return fail(err, std::string("socket: ") + std::strerror(errno));
  sun.sun_family = AF_UNIX;
  std::memcpy(sun.sun_path, path.c_str(), path.size() + 1);
  if (::connect(fd_, reinterpret_cast<const sockaddr*>(&sun), sizeof sun) != 0)
    return fail(err, "cannot connect to " + path + ": " + std::strerror(errno) +
                         " (is mipvpnd running with that --file-prefix?)");
  timeval tv{10, 0};
  setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  /* The server speaks first: {"version": ..., "pid": ..., "max_output_len": ...}. */
  char buf[1024];
  const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
  if (n <= 0) return fail(err, "no greeting from " + path);
  return true;
}

std::optional<Json> TelClient::query(const std::string& command, const std::string& params, std::string* err) {
  const std::string req = params.empty() ? command : command + "," + params;
  if (::send(fd_, req.data(), req.size(), 0) != static_cast<ssize_t>(req.size())) {
    fail(err, std::string("send: ") + std::strerror(errno));
    return std::nullopt;
  }
  std::string buf(1 << 17, '\0');
  const ssize_t n = ::recv(fd_, buf.data(), buf.size(), 0);
  if (n <= 0) {
    fail(err, n == 0 ? "the daemon closed the connection" : std::string("recv: ") + std::strerror(errno));
    return std::nullopt;
  }
  buf.resize(static_cast<size_t>(n));
  raw_ = buf;
  std::string e;
  auto j = json_parse(buf, &e);
  if (!j || !j->is_object()) {
    fail(err, "bad answer (" + (j ? std::string("not an object") : e) + "): " + buf.substr(0, 200));
    return std::nullopt;
  }
  const Json* v = j->get(command);
  if (!v || v->type == Json::Type::kNull) {
    fail(err, "the daemon does not know " + command + " (not mipvpnd, or telemetry = false?)");
    return std::nullopt;
  }
  if (const Json* er = v->is_object() ? v->get("error") : nullptr) {
    fail(err, er->text());
    return std::nullopt;
  }
  return *v;
}

namespace {

std::string field(const Json& o, std::string_view k) {
  const Json* v = o.get(k);
  return v ? v->text() : "-";
}

void section(std::ostringstream& s, const std::string& name, const Json& d, bool nonzero_only) {
  size_t zero = 0;
  std::ostringstream body;
  for (const auto& [k, v] : d.obj) {
    if (nonzero_only && v.type == Json::Type::kUint && v.u == 0) {
      ++zero;
      continue;
    }
    body << "  " << k << std::string(k.size() < 22 ? 22 - k.size() : 1, ' ') << v.text() << "\n";
  }
  s << name << ":";
  if (nonzero_only && zero) s << " (" << zero << " other reason(s) at 0)";
  s << "\n" << body.str();
}

}  // namespace

std::string format_answer(std::string_view command, const Json& v) {
  std::ostringstream s;
  if (command == "/mipvpn/bindings") {
    size_t n = 0;
    for (const auto& [k, b] : v.obj) {
      if (!b.is_object()) continue;
      if (n++ == 0)
        s << "role home            care-of         encap peer:port             flags ha              expires\n";
      char line[256];
      const std::string peer = field(b, "peer") + ":" + field(b, "port");
      const std::string exp = field(b, "expires_in");
      std::snprintf(line, sizeof line, "%-4s %-15s %-15s %-5s %-21s %-5s %-15s %s\n", field(b, "role").c_str(),
                    field(b, "home").c_str(), field(b, "care_of").c_str(), field(b, "encap").c_str(),
                    peer.c_str(), field(b, "flags").c_str(), field(b, "ha").c_str(),
                    exp == "infinite" ? "infinite" : (exp + "s").c_str());
      s << line;
    }
    for (const char* t : {"xha_total", "iha_total"})
      if (const Json* x = v.get(t)) s << std::string(t, 3) << ": " << x->text() << " binding(s)\n";
    if (const Json* m = v.get("more"); m && m->u)
      s << "more: mipvpnctl bindings ROLE " << (v.get("from") ? v.get("from")->u : 0) + n << "\n";
    if (n == 0) s << "no bindings shown\n";
    return s.str();
  }
  if (command == "/mipvpn/sas") {
    size_t n = 0;
    for (const auto& [k, a] : v.obj) {
      if (!a.is_object()) continue;
      if (n++ == 0)
        s << "spi        dir suite              src             dst             selector           "
             "packets    bytes        drops  origin\n";
      char line[320];
      std::snprintf(line, sizeof line, "%-10s %-3s %-18s %-15s %-15s %-18s %-10s %-12s %-6s %s\n",
                    field(a, "spi").c_str(), field(a, "dir").c_str(), field(a, "suite").c_str(),
                    field(a, "src").c_str(), field(a, "dst").c_str(), field(a, "selector").c_str(),
                    field(a, "packets").c_str(), field(a, "bytes").c_str(), field(a, "drops").c_str(),
                    field(a, "origin").c_str());
      s << line;
      if (field(a, "natt_dport") != "0")
        s << "           natt " << field(a, "natt_sport") << " -> " << field(a, "natt_dport") << "\n";
    }
    if (n == 0) s << "no SAs\n";
    return s.str();
  }
  const bool drops = command == "/mipvpn/drops";
  for (const auto& [k, d] : v.obj) {
    if (d.is_object())
      section(s, k, d, drops);
    else
      s << k << ": " << d.text() << "\n";
  }
  return s.str();
}

}  // namespace mipvpn
