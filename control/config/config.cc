/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Loading: libconfig parses (syntax errors come back with file and line),
 * then one pass over the tree reads every setting, collecting every
 * error. Exceptions from libconfig or allocation stop here.
 */
#include "config/config.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>
#include <libconfig.h++>
#include <string>

#include "config/reader.h"
#include "config/sections.h"
#include "config/values.h"

namespace mipvpn {
namespace {

using cfg::Reader;
using cfg::Setting;

/* False when roles could not be read at all (reported). */
bool read_roles(Reader& r, const Setting& root, Config* c) {
  const Setting* s = r.child(root, "", "roles", true);
  std::vector<const Setting*> elems;
  if (!s || !r.strings(*s, "roles", &elems)) return false;
  for (size_t i = 0; i < elems.size(); ++i) {
    if (!elems[i]) continue;
    const std::string p = cfg::index("roles", i);
    const std::string n = static_cast<const char*>(*elems[i]);
    bool* flag = n == "xha" ? &c->roles.xha : n == "vpngw" ? &c->roles.vpngw : n == "iha" ? &c->roles.iha : nullptr;
    if (!flag) {
      r.error(*elems[i], p, "'" + n + "' is not a role; use \"xha\", \"vpngw\" or \"iha\"");
      continue;
    }
    if (*flag) r.error(*elems[i], p, "role '" + n + "' is listed twice");
    *flag = true;
  }
  if (elems.empty()) r.error(*s, "roles", "give at least one role: \"xha\", \"vpngw\" or \"iha\"");
  return true;
}

void read_timers(Reader& r, const Setting& root, Config* c) {
  const Setting* s = r.child(root, "", "timers", false);
  if (!s || !r.check_group(*s, "timers", {"t_monitor", "reg_lifetime"})) return;
  r.opt_int(*s, "timers", "t_monitor", 1, 86400, &c->timers.t_monitor_s);
  r.opt_int(*s, "timers", "reg_lifetime", 1, 0xffff, &c->timers.reg_lifetime_s);
}

void read_punt(Reader& r, const Setting& root, Config* c) {
  const Setting* s = r.child(root, "", "punt", false);
  if (!s || !r.check_group(*s, "punt", {"rate_per_source", "burst"})) return;
  r.opt_int(*s, "punt", "rate_per_source", 0, 10000000, &c->punt.rate_per_source);
  r.opt_int(*s, "punt", "burst", 1, 1000000, &c->punt.burst);
}

/* A role's section exists iff the role is listed. Whether to read the
 * section: when roles itself was unreadable, any section present is read
 * for its own errors, without blaming it on roles. */
bool section_matches_role(Reader& r, const Setting& root, const char* name, bool role, bool roles_known) {
  const bool present = root.exists(name);
  if (!roles_known) return present;
  if (role && !present) {
    const Setting* roles = r.child(root, "", "roles", false);
    r.error(roles ? *roles : root, "roles",
            std::string("role '") + name + "' is listed but the " + name + " section is missing; add " + name +
                " = { ... }");
  } else if (!role && present) {
    r.error(root[name], name,
            std::string("the section is present but '") + name + "' is not in roles; add it to roles or remove the section");
  }
  return role && present;
}

void read_root(Reader& r, const Setting& root, Config* c) {
  r.check_group(root, "", {"eal", "roles", "workers", "ports", "neighbours", "routes", "xha", "iha", "vpngw",
                           "timers", "punt", "ike", "telemetry"});
  if (const Setting* e = r.child(root, "", "eal", false)) {
    std::vector<const Setting*> elems;
    if (r.strings(*e, "eal", &elems)) {
      c->eal.clear();
      for (const Setting* x : elems)
        if (x) c->eal.emplace_back(static_cast<const char*>(*x));
    }
  }
  const bool roles_known = read_roles(r, root, c);
  r.opt_int(root, "", "workers", 1, 64, &c->workers);
  cfg::read_network(r, root, c);
  if (section_matches_role(r, root, "xha", c->roles.xha, roles_known))
    c->xha = cfg::read_ha_section(r, root["xha"], HaRole::kXha, *c);
  if (section_matches_role(r, root, "iha", c->roles.iha, roles_known))
    c->iha = cfg::read_ha_section(r, root["iha"], HaRole::kIha, *c);
  if (section_matches_role(r, root, "vpngw", c->roles.vpngw, roles_known))
    c->vpngw = cfg::read_vpngw_section(r, root["vpngw"], *c);
  read_timers(r, root, c);
  read_punt(r, root, c);
  if (root.exists("ike")) c->ike = cfg::read_ike_section(r, root["ike"], *c, roles_known);
  r.opt(root, "", "telemetry", &c->telemetry, &Reader::boolean);
}

ConfigResult finish(Reader& r, Config&& c) {
  ConfigResult out;
  out.errors = std::move(r.errors());
  out.warnings = std::move(r.warnings());
  if (out.errors.empty()) out.config = std::move(c);
  return out;
}

ConfigResult fail(const std::string& file, int line, const std::string& msg) {
  ConfigResult out;
  out.errors.push_back({file, line, msg});
  return out;
}

/* Parse with lc already read; text (if known) is scanned for literals
 * libconfig cut to 32 bits. */
ConfigResult walk(libconfig::Config& lc, const std::string& file, std::string_view text,
                  const std::string& include_dir = "") {
  Reader r(file, include_dir);
  for (const cfg::WideLiteral& w : cfg::find_wide_int_literals(text))
    r.errors().push_back({file, w.line,
                          "'" + w.text + "' does not fit in 32 bits and libconfig would silently cut it; write " +
                              w.text + "L"});
  Config c;
  read_root(r, lc.getRoot(), &c);
  return finish(r, std::move(c));
}

ConfigResult parse_error(const libconfig::ParseException& e, const std::string& file) {
  const char* f = e.getFile();
  return fail(f ? f : file, e.getLine(),
              std::string(e.getError()) + " (libconfig syntax: name = value; groups { }, lists ( ), arrays [ ])");
}

std::string dir_of(const std::string& path) {
  const auto slash = path.rfind('/');
  return slash == std::string::npos ? "." : path.substr(0, slash);
}

}  // namespace

ConfigResult parse_config_string(std::string_view text, const std::string& name) {
  try {
    /* libconfig reads a C string: a NUL would silently end the text. */
    if (const auto nul = text.find('\0'); nul != std::string_view::npos) {
      const std::string_view before = text.substr(0, nul);
      const int line = 1 + static_cast<int>(std::count(before.begin(), before.end(), '\n'));
      return fail(name, line, "the text contains a NUL byte; a configuration is plain text");
    }
    libconfig::Config lc;
    try {
      lc.readString(std::string(text));
    } catch (const libconfig::ParseException& e) {
      return parse_error(e, name);
    }
    return walk(lc, name, text);
  } catch (const std::exception& e) {
    return fail(name, 0, std::string("internal error while reading the configuration: ") + e.what());
  } catch (...) {
    return fail(name, 0, "internal error while reading the configuration");
  }
}

ConfigResult load_config_file(const std::string& path) {
  try {
    /* libconfig's FileIOException says nothing of why; ask the system. */
    std::FILE* f = std::fopen(path.c_str(), "r");
    if (!f) return fail(path, 0, std::string("cannot open the file: ") + std::strerror(errno));
    std::string text;  /* for the literal scan (not of @include'd files) */
    char buf[4096];
    for (size_t got; (got = std::fread(buf, 1, sizeof buf, f)) > 0;) text.append(buf, got);
    std::fclose(f);
    libconfig::Config lc;
    const std::string dir = dir_of(path);
    lc.setIncludeDir(dir.c_str());  /* @include "x.conf" is relative to this file */
    try {
      lc.readFile(path.c_str());
    } catch (const libconfig::ParseException& e) {
      return parse_error(e, path);
    } catch (const libconfig::FileIOException&) {
      return fail(path, 0, "cannot read the file");
    }
    return walk(lc, path, text, dir);
  } catch (const std::exception& e) {
    return fail(path, 0, std::string("internal error while reading the configuration: ") + e.what());
  } catch (...) {
    return fail(path, 0, "internal error while reading the configuration");
  }
}

}  // namespace mipvpn
