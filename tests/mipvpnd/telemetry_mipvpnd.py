"""mipvpnd's telemetry end to end: the daemon (x-HA, VPN gateway and i-HA
in one) on net_pcap ports, read with DPDK's own dpdk-telemetry.py and with
mipvpnctl; an SA and two bindings added at run time and seen in
/mipvpn/sas and /mipvpn/bindings, then removed; bad mipvpnctl arguments
exit 2, a refused change exits 1; after SIGTERM the commands are gone.

The outside port reads four bad datagrams once (ESP with an unknown SPI,
ESP with a reserved SPI, a truncated IPv4 header, ESP for the configured
SA with a wrong ICV), the inside port a frame
of an unknown EtherType: /mipvpn/drops must count them by reason.

usage: telemetry_mipvpnd.py MIPVPND MIPVPNCTL
"""
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import time

import mipvpnd_util  # noqa: E402
from mipvpnd_util import check, pcap_port, stop_daemon  # noqa: E402
from scapy.all import Ether, IP, Raw, wrpcap  # noqa: E402

MIPVPND, MIPVPNCTL = sys.argv[1], sys.argv[2]
TELEMETRY = shutil.which("dpdk-telemetry.py") or "/usr/share/dpdk/usertools/dpdk-telemetry.py"
if not os.path.exists(TELEMETRY):
    sys.exit("FAIL dpdk-telemetry.py not found (Debian package dpdk): this test needs DPDK's own client")

PREFIX = "mipvpn-tele-%d" % os.getpid()
OUT_MAC, IN_MAC, GW_MAC = "02:00:00:00:00:01", "02:00:00:00:00:02", "02:00:00:00:01:01"
GW, XHA, IHA, XHOA, TIA = "198.51.100.11", "198.51.100.10", "10.1.0.2", "198.51.100.50", "10.99.0.5"
KEY = "101112131415161718191a1b1c1d1e1f20212223"
MN_KEY = "a87a7be5629f2d47f2839c370531778e"

def config(d):
    def port(name, n, addr, mac, internal):
        return pcap_port(d, name, n, addr, mac, internal)
    return "\n".join([
        'eal = ["--no-huge", "-m", "256", "--no-pci", "--file-prefix=%s"];' % PREFIX,
        'roles = ["xha", "vpngw", "iha"];',
        "workers = 1;",
        "ports = ( %s, %s );" % (port("outside", 0, GW + "/24", OUT_MAC, False),
                                 port("inside", 1, "10.1.0.1/16", IN_MAC, True)),
        'routes = ( { prefix = "0.0.0.0/0"; via = "198.51.100.1"; } );',
        'xha = { addresses = ["%s"]; mobile_nodes = ( { home = "%s"; spi = 300; key = "%s"; } ); };' % (
            XHA, XHOA, MN_KEY),
        'iha = { addresses = ["%s"]; trusted_networks = ["10.99.0.0/16"]; '
        'mobile_nodes = ( { home = "10.1.5.5"; spi = 301; key = "%s"; } ); };' % (IHA, MN_KEY),
        'vpngw = { address = "%s"; allow_static_gcm = true; sas = ( { spi = 4097; direction = "in"; '
        'suite = "aes-128-gcm"; key = "%s"; src = "%s"; dst = "%s"; selector = "%s/32"; } ); };' % (
            GW, KEY, XHOA, GW, TIA),
    ]) + "\n"


def telemetry(*cmds):
    """Each command through dpdk-telemetry.py; the answers by command line
    (the client keys each answer by the command without its parameters)."""
    r = subprocess.run([TELEMETRY, "-f", PREFIX], input="\n".join(cmds) + "\n", capture_output=True,
                       text=True, timeout=30)
    check("dpdk-telemetry.py ran", r.returncode == 0, r.stdout + r.stderr)
    answers = [json.loads(x) for x in r.stdout.splitlines() if x.strip().startswith("{")]
    check("dpdk-telemetry.py answers", len(answers) == len(cmds), r.stdout)
    out = {}
    for c, a in zip(cmds, answers):
        check("answer to " + c, c.split(",")[0] in a, a)
        out[c] = a[c.split(",")[0]]
    return out


def ctl(*args, rc=0):
    r = subprocess.run([MIPVPNCTL, "--file-prefix", PREFIX] + list(args), capture_output=True, text=True,
                       timeout=30)
    check("mipvpnctl %s exit %d" % (" ".join(args), rc), r.returncode == rc,
          "got %d: %s" % (r.returncode, r.stdout + r.stderr))
    return r.stdout + r.stderr


def ctl_json(*args):
    return json.loads(ctl("--json", *args))["/mipvpn/" + args[0]]


def main():
    d = tempfile.mkdtemp(prefix="mipvpn-tele-")
    proc = None
    try:
        proc = run(d)
    finally:
        if proc and proc.poll() is None:
            proc.kill()
        shutil.rmtree(d, ignore_errors=True)


def run(d):
    eth = Ether(src=GW_MAC, dst=OUT_MAC)
    wrpcap(d + "/outside_in.pcap", [
        eth / IP(src=XHOA, dst=GW, proto=50) / Raw(struct.pack("!II", 0x7777, 1) + bytes(40)),  # unknown SPI
        eth / IP(src=XHOA, dst=GW, proto=50) / Raw(struct.pack("!II", 7, 1) + bytes(40)),       # reserved SPI
        Ether(src=GW_MAC, dst=OUT_MAC, type=0x0800) / Raw(bytes(IP(src=XHOA, dst=GW))[:12]),    # truncated
        eth / IP(src=XHOA, dst=GW, proto=50) / Raw(struct.pack("!II", 0x1001, 1) + bytes(40)),  # bad ICV
    ])
    wrpcap(d + "/inside_in.pcap", [Ether(src=GW_MAC, dst="ff:ff:ff:ff:ff:ff", type=0x9999) / Raw(bytes(46))])
    with open(d + "/mipvpnd.conf", "w") as f:
        f.write(config(d))
    proc = subprocess.Popen([MIPVPND, "-c", d + "/mipvpnd.conf", "--idle-sleep-us", "200"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    sock = "/var/run/dpdk/%s/dpdk_telemetry.v2" % PREFIX
    if os.getuid() != 0:
        sock = "%s/dpdk/%s/dpdk_telemetry.v2" % (os.environ.get("XDG_RUNTIME_DIR") or "/tmp", PREFIX)
    for _ in range(100):
        if proc.poll() is not None:
            sys.exit("FAIL mipvpnd exited %d at start:\n%s" % (proc.returncode, proc.stdout.read()))
        if os.path.exists(sock) and ctl_probe():
            break
        time.sleep(0.1)
    else:
        proc.kill()
        sys.exit("FAIL mipvpnd offers no telemetry at %s:\n%s" % (sock, proc.communicate()[0]))
    time.sleep(1)  # the pcap is read, the bad datagrams counted

    # DPDK's own client sees every command, with its help text.
    t = telemetry("/", "/help,/mipvpn/sa_add", "/mipvpn/stats", "/mipvpn/drops", "/mipvpn/bindings",
                  "/mipvpn/bindings,iha", "/mipvpn/sas")
    for c in ["/mipvpn/stats", "/mipvpn/drops", "/mipvpn/bindings", "/mipvpn/sas", "/mipvpn/sa_add",
              "/mipvpn/sa_del", "/mipvpn/binding_add", "/mipvpn/binding_del", "/mipvpn/result"]:
        check("listed " + c, c in t["/"], t["/"])
    check("help", "SPI" in t["/help,/mipvpn/sa_add"]["/mipvpn/sa_add"], t["/help,/mipvpn/sa_add"])
    st = t["/mipvpn/stats"]
    check("stats ports", st["ports"]["rx"] == 5 and st["ports"]["dropped"] == 5, st)
    check("stats stages", st["stages"]["rx"] == 4 and st["stages"]["dropped"] == 4, st)
    check("stats per port", st["port0"]["name"] == "outside" and st["port0"]["ipackets"] == 4 and
          st["port1"]["name"] == "inside" and st["port1"]["ipackets"] == 1, st)
    w0 = st["worker0"]
    check("stats worker loop", "worker1" not in st and w0["rx"] == 5 and
          0 < w0["busy_polls"] <= w0["polls"] and w0["busy_cycles"] > 0 and w0["tsc_hz"] > 0, w0)
    check("stats roles", st["vpngw"]["sas_in"] == 1 and st["xha"]["bindings"] == 0 and "iha" in st, st)
    dr = t["/mipvpn/drops"]
    check("drops stage", dr["stage"]["unknown_spi"] == 1 and dr["stage"]["bad_spi"] == 1, dr["stage"])
    check("drops runtime", dr["runtime"]["pipeline"] == 4 and dr["runtime"]["ethertype"] == 1, dr["runtime"])
    check("drops reasons", {"runtime", "stage", "esp_inb", "esp_outb", "xha", "iha"} <= set(dr) and
          "replayed" in dr["esp_inb"] and "untrusted_source" in dr["iha"], list(dr))
    check("drops truncated", dr["stage"]["truncated"] == 1, dr)
    check("drops esp", dr["stage"]["esp_inbound"] == 1 and dr["esp_inb"]["auth_failed"] == 1 and
          "none" not in dr["esp_inb"], dr)
    check("bindings empty", t["/mipvpn/bindings"]["xha_total"] == 0 and t["/mipvpn/bindings"]["shown"] == 0,
          t["/mipvpn/bindings"])
    check("bindings iha only", "xha_total" not in t["/mipvpn/bindings,iha"], t["/mipvpn/bindings,iha"])
    sa = t["/mipvpn/sas"]["sa_1001_in"]
    check("sas config", sa["spi"] == "0x1001" and sa["dir"] == "in" and sa["suite"] == "aes-128-gcm" and
          sa["src"] == XHOA and sa["selector"] == TIA + "/32" and sa["origin"] == "config", sa)
    check("sas counters", sa["packets"] == 0 and sa["drops"] == 1 and sa["drop_auth_failed"] == 1, sa)

    # mipvpnctl, readable and as JSON.
    out = ctl("stats")
    check("ctl stats", "ports:" in out and "rx" in out and "stages:" in out, out)
    out = ctl("drops")
    check("ctl drops", "unknown_spi" in out and "bad_spi" in out and "other reason" in out, out)
    check("ctl sas", "0x1001" in ctl("sas"))
    check("ctl bindings", "no bindings" in ctl("bindings"))
    check("ctl json", ctl_json("stats")["ports"]["rx"] == 5)

    # Run-time changes: an outbound SA, an x-HA binding (IP-in-IP, lifetime) and an i-HA one (UDP).
    out = ctl("sa", "add", "0x2001", "out", "aes-128-gcm", KEY, GW, XHOA, TIA + "/32")
    check("sa added", "added" in out, out)
    ctl("sa", "add", "0x2002", "in", "aes-128-cbc-sha1", "00" * 16, XHOA, GW, "10.99.0.6/32",
        "auth-key", "11" * 20, "esn", "window", "128", "natt", "4500", "4500")
    ctl("binding", "add", "xha", XHOA, "192.0.2.77", "lifetime", "600")
    ctl("binding", "add", "iha", "10.1.5.5", TIA, "udp", "198.51.100.60", "4500")
    t = telemetry("/mipvpn/sas", "/mipvpn/bindings", "/mipvpn/stats")
    s = t["/mipvpn/sas"]
    check("sas runtime", s["total"] == 3 and s["sa_2001_out"]["origin"] == "runtime" and
          s["sa_2001_out"]["dst"] == XHOA and s["sa_2002_in"]["natt_dport"] == 4500 and
          s["sa_2002_in"]["suite"] == "aes-128-cbc-sha1", s)
    b = [v for v in t["/mipvpn/bindings"].values() if isinstance(v, dict)]
    x = [v for v in b if v["role"] == "xha"]
    i = [v for v in b if v["role"] == "iha"]
    check("binding xha", len(x) == 1 and x[0]["home"] == XHOA and x[0]["care_of"] == "192.0.2.77" and
          x[0]["encap"] == "ipip" and x[0]["peer"] == "192.0.2.77" and "O" in x[0]["flags"] and
          0 < x[0]["expires_in"] <= 600 and x[0]["ha"] == XHA, b)
    check("binding iha", len(i) == 1 and i[0]["encap"] == "udp" and i[0]["peer"] == "198.51.100.60" and
          i[0]["port"] == 4500 and i[0]["expires_in"] == "infinite", b)
    check("stats after", t["/mipvpn/stats"]["vpngw"]["sas_out"] == 1 and
          t["/mipvpn/stats"]["xha"]["bindings"] == 1, t["/mipvpn/stats"])
    out = ctl("bindings", "xha")
    check("ctl bindings xha", XHOA in out and "192.0.2.77" in out and "10.1.5.5" not in out, out)
    out = ctl("sas")
    check("ctl sas runtime", "0x2001" in out and "runtime" in out and "natt 4500 -> 4500" in out, out)

    # A change through dpdk-telemetry.py: queued, an id, the result.
    t = telemetry("/mipvpn/binding_add,xha,198.51.100.51,192.0.2.78")
    rid = t["/mipvpn/binding_add,xha,198.51.100.51,192.0.2.78"]["id"]
    time.sleep(0.2)
    r = telemetry("/mipvpn/result,%d" % rid)["/mipvpn/result,%d" % rid]
    check("result via dpdk-telemetry.py", r["state"] == "ok" and "added" in r["message"], r)
    check("bad params via dpdk-telemetry.py",
          "error" in telemetry("/mipvpn/sa_del,12,in")["/mipvpn/sa_del,12,in"])

    # Refused by the daemon: exit 1 with its reason.
    out = ctl("sa", "add", "0x2001", "out", "aes-128-gcm", KEY, GW, XHOA, TIA + "/32", rc=1)
    check("duplicate SA refused", "exists" in out, out)
    out = ctl("sa", "add", "0x2003", "out", "rot13", KEY, GW, XHOA, TIA + "/32", rc=1)
    check("unknown suite refused", "suite" in out, out)
    check("short key refused", ctl("sa", "add", "0x2004", "out", "aes-128-gcm", "0011", GW, XHOA,
                                   TIA + "/32", rc=1))
    ctl("sa", "del", "0x9999", "in", rc=1)
    ctl("binding", "del", "iha", "10.1.9.9", rc=1)

    # Removed again.
    ctl("sa", "del", "0x2001", "out")
    ctl("sa", "del", "0x2002", "in")
    ctl("binding", "del", "xha", XHOA)
    ctl("binding", "del", "xha", "198.51.100.51")
    ctl("binding", "del", "iha", "10.1.5.5")
    t = telemetry("/mipvpn/sas", "/mipvpn/bindings")
    check("sas removed", t["/mipvpn/sas"]["total"] == 1 and "sa_2001_out" not in t["/mipvpn/sas"],
          t["/mipvpn/sas"])
    check("bindings removed", t["/mipvpn/bindings"]["shown"] == 0, t["/mipvpn/bindings"])

    # Bad arguments: exit 2 with a reason, nothing sent.
    for args in [[], ["statistics"], ["stats", "now"], ["bindings", "mha"], ["sa", "add", "0x10", "out"],
                 ["sa", "add", "255", "out", "aes-128-gcm", KEY, GW, XHOA, TIA + "/32"],
                 ["sa", "add", "0x3001", "sideways", "aes-128-gcm", KEY, GW, XHOA, TIA + "/32"],
                 ["sa", "add", "0x3001", "out", "aes-128-gcm", "xyz", GW, XHOA, TIA + "/32"],
                 ["sa", "del", "0x3001"], ["binding", "add", "xha", "1.2.3", "4.5.6.7"],
                 ["binding", "add", "xha", XHOA, "192.0.2.77", "udp", "1.2.3.4"],
                 ["binding", "add", "xha", XHOA, "192.0.2.77", "lifetime", "forever"],
                 ["binding", "del", "xha"], ["--timeout", "x", "stats"], ["--frobnicate", "stats"]]:
        out = ctl(*args, rc=2)
        check("bad args say why: %s" % args, "mipvpnctl:" in out, out)
    r = subprocess.run([MIPVPNCTL, "--file-prefix", PREFIX + "-none", "stats"], capture_output=True, text=True)
    check("no daemon: exit 1", r.returncode == 1 and "cannot connect" in r.stderr, r.stderr)

    out = stop_daemon(proc)
    for what in ["SA 0x2001 out added", "SA 0x2001 out removed", "operator binding 198.51.100.50 -> 192.0.2.77",
                 "binding 10.1.5.5 removed"]:
        check("log: " + what, what in out, out)
    check("socket gone", not os.path.exists(sock), sock)
    print("telemetry mipvpnd: %d checks passed" % mipvpnd_util.checked)
    return proc


def ctl_probe():
    r = subprocess.run([MIPVPNCTL, "--file-prefix", PREFIX, "stats"], capture_output=True, text=True)
    return "running" if r.returncode == 0 else None


if __name__ == "__main__":
    main()
