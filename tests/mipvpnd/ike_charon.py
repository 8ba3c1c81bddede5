"""A real IKEv2 exchange through the IKE bridge (docs/ike.md): strongSwan's
charon in the appliance's namespace, bound to the gateway's address on the
bridge's TUN interface, and a second charon in a peer namespace across a
veth whose other end is mipvpnd's port (net_pcap on the live veth: one
RX queue, a TX queue per thread). The peer initiates;
IKE_SA_INIT and IKE_AUTH (PSK, with a child SA) must complete on both
sides, all of it through the bridge: the wire -> the stages' punt -> the TUN
-> charon, and back out through the control thread's pipeline.

Both charons use kernel-libipsec (the kernel here has no ESP), which
forces UDP encapsulation, so the exchange moves to port 4500 with the
non-ESP marker after IKE_SA_INIT (RFC 7296 2.23, RFC 3948 2.2). The ESP
that charon's libipsec then writes into the TUN must be refused
(not_ike): only the data plane sends ESP.

usage: ike_charon.py MIPVPND   (root; fails without strongSwan: ./scripts/test installs it)
"""
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

import mipvpnd_util  # noqa: E402
from mipvpnd_util import check, remove_eal_dir, telemetry  # noqa: E402

MIPVPND = os.path.abspath(sys.argv[1])
CHARON, SWANCTL = "/usr/lib/ipsec/charon", shutil.which("swanctl")
PID = os.getpid()
NS_A, NS_B = "mipvpn-ikeA-%d" % PID, "mipvpn-ikeB-%d" % PID
PREFIX = "mipvpn-ikec-%d" % PID
TAP = "mvikc%d" % (PID % 100000)
OUT_MAC = "02:00:00:00:00:01"
GW, PEER = "198.51.100.11", "198.51.100.20"
INNER_A, INNER_B = "10.1.0.1", "10.99.0.5"
DAEMON_OUT = []
PSK = "mipvpn-ike-bridge-test-secret"
TERMINATED = []


def on_sigterm(*_):
    """meson's timeout: SIGTERM to the test's process group, SIGKILL 0.5 s
    later. As sys.exit, the finally block in main() ends the children (in
    their own sessions, so only it ends them) and deletes the namespaces."""
    TERMINATED.append(1)
    sys.exit("FAIL terminated")


def end_group(p, graceful):
    """End a child started in its own session with what it started:
    SIGTERM and a bounded wait when graceful, else SIGKILL at once."""
    if p.poll() is not None:
        return
    if graceful:
        try:
            os.killpg(p.pid, signal.SIGTERM)
            p.wait(timeout=10)
            return
        except (ProcessLookupError, subprocess.TimeoutExpired):
            pass
    try:
        os.killpg(p.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    p.wait()


def sh(*cmd):
    r = subprocess.run(list(cmd), capture_output=True, text=True)
    check(" ".join(cmd), r.returncode == 0, r.stdout + r.stderr)
    return r.stdout


def ns(name, *cmd):
    return sh("ip", "netns", "exec", name, *cmd)


def strongswan_conf(d, who):
    return """charon {
  load = random nonce aes sha1 sha2 hmac kdf gmp curve25519 pem pkcs1 pubkey x509 socket-default kernel-libipsec kernel-netlink vici
  install_virtual_ip = no
  retransmit_tries = 3
  plugins {
    vici { socket = unix://%(d)s/%(who)s.vici }
  }
  filelog {
    log { path = %(d)s/%(who)s.log
          default = 1
          ike = 2
          net = 2
          time_format = %%T }
  }
}
""" % {"d": d, "who": who}


def swanctl_conf(me, them, mine, theirs):
    return """connections {
  bridge {
    version = 2
    local_addrs = %(me)s
    remote_addrs = %(them)s
    proposals = aes128-sha256-x25519
    local { auth = psk
            id = %(me)s }
    remote { auth = psk
             id = %(them)s }
    children {
      net { local_ts = %(mine)s
            remote_ts = %(theirs)s
            esp_proposals = aes128-sha256 }
    }
  }
}
secrets {
  ike-bridge { id-a = %(me)s
               id-b = %(them)s
               secret = "%(psk)s" }
}
""" % {"me": me, "them": them, "mine": mine, "theirs": theirs, "psk": PSK}


def start_charon(d, who, netns):
    """charon in netns with a private /run (its pid file) and its own vici socket."""
    with open("%s/%s.strongswan.conf" % (d, who), "w") as f:
        f.write(strongswan_conf(d, who))
    env = dict(os.environ, STRONGSWAN_CONF="%s/%s.strongswan.conf" % (d, who))
    return subprocess.Popen(["ip", "netns", "exec", netns, "unshare", "-m", "sh", "-c",
                             "mount -t tmpfs tmpfs /run && exec %s" % CHARON],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)


def swanctl(d, who, *args, rc_ok=True, timeout=30):
    r = subprocess.run([SWANCTL] + list(args) + ["--uri", "unix://%s/%s.vici" % (d, who)],
                       capture_output=True, text=True, timeout=timeout)
    if rc_ok:
        check("swanctl %s %s" % (who, " ".join(args)), r.returncode == 0, r.stdout + r.stderr)
    return r


def wait_file(path, seconds=15):
    end = time.time() + seconds
    while time.time() < end and not os.path.exists(path):
        time.sleep(0.1)
    return os.path.exists(path)


def main():
    if os.geteuid() != 0:
        sys.exit("FAIL this test needs root (network namespaces, veth, TUN)")
    if not os.path.exists(CHARON) or SWANCTL is None:
        sys.exit("FAIL strongSwan (strongswan-charon, strongswan-swanctl, libcharon-extra-plugins) "
                 "is not installed: the peer of this test cannot run")
    signal.signal(signal.SIGTERM, on_sigterm)
    d = tempfile.mkdtemp(prefix="mipvpn-ikec-")
    procs = []
    ok = False
    try:
        run(d, procs)
        ok = True
    finally:
        # Terminated: no time to be gentle (SIGKILL follows in 0.5 s).
        for p in procs:
            end_group(p, graceful=not TERMINATED)
        for n in (NS_A, NS_B):
            subprocess.run(["ip", "netns", "del", n], capture_output=True)
        remove_eal_dir(PREFIX)
        if not ok:
            print("--- mipvpnd ---\n" + "".join(DAEMON_OUT))
            for who in ("a", "b"):
                if os.path.exists("%s/%s.log" % (d, who)):
                    print("--- charon %s log (tail) ---" % who)
                    print("".join(open("%s/%s.log" % (d, who)).readlines()[-40:]))
        shutil.rmtree(d, ignore_errors=True)


def run(d, procs):
    sh("ip", "netns", "add", NS_A)
    sh("ip", "netns", "add", NS_B)
    for n in (NS_A, NS_B):
        ns(n, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1")
        ns(n, "sysctl", "-qw", "net.ipv6.conf.default.disable_ipv6=1")
        ns(n, "ip", "link", "set", "lo", "up")
    sh("ip", "link", "add", "vdp", "netns", NS_A, "type", "veth", "peer", "name", "vpeer", "netns", NS_B)
    # The appliance answers ARP on vdp, not the namespace's kernel (which
    # would answer for the gateway's address on the TUN, with its own MAC).
    ns(NS_A, "ip", "link", "set", "vdp", "address", OUT_MAC, "arp", "off", "up")
    ns(NS_B, "ip", "addr", "add", PEER + "/24", "dev", "vpeer")
    ns(NS_B, "ip", "link", "set", "vpeer", "up")

    conf = d + "/mipvpnd.conf"
    with open(conf, "w") as f:
        f.write("\n".join([
            'eal = ["--no-huge", "-m", "256", "--no-pci", "--file-prefix=%s"];' % PREFIX,
            'roles = ["vpngw"];',
            "workers = 1;",
            'ports = ( { name = "outside"; device = "net_pcap0,rx_iface_in=vdp,tx_iface=vdp,tx_iface=vdp"; address = "%s/24";'
            ' mac = "%s"; } );' % (GW, OUT_MAC),
            'vpngw = { address = "%s"; };' % GW,
            'ike = { tap = "%s"; };' % TAP,
        ]) + "\n")
    daemon = subprocess.Popen(["ip", "netns", "exec", NS_A, MIPVPND, "-c", conf, "--idle-sleep-us", "200"],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    procs.append(daemon)
    out = DAEMON_OUT
    reader = threading.Thread(target=lambda: out.extend(iter(daemon.stdout.readline, "")), daemon=True)
    reader.start()
    end = time.time() + 60  # EAL start-up under ASan on a loaded machine
    while time.time() < end and not any("mipvpnd: running" in line for line in out) and daemon.poll() is None:
        time.sleep(0.1)
    check("mipvpnd running", any("mipvpnd: running" in line for line in out), "".join(out))

    # The host side of the bridge (docs/ike.md).
    ns(NS_A, "ip", "addr", "add", GW + "/32", "dev", TAP)
    ns(NS_A, "ip", "link", "set", TAP, "up")
    ns(NS_A, "ip", "route", "add", PEER + "/32", "dev", TAP)

    # Inner networks: the enterprise behind the gateway, a host behind the peer.
    ns(NS_A, "ip", "addr", "add", INNER_A + "/32", "dev", "lo")
    ns(NS_B, "ip", "addr", "add", INNER_B + "/32", "dev", "lo")
    for who, netns, me, them, mine, theirs in (("a", NS_A, GW, PEER, "10.1.0.0/16", INNER_B + "/32"),
                                              ("b", NS_B, PEER, GW, INNER_B + "/32", "10.1.0.0/16")):
        with open("%s/%s.swanctl.conf" % (d, who), "w") as f:
            f.write(swanctl_conf(me, them, mine, theirs))
        procs.append(start_charon(d, who, netns))
        check("charon %s vici" % who, wait_file("%s/%s.vici" % (d, who)))
        time.sleep(0.5)
        swanctl(d, who, "--load-all", "--noprompt", "--file", "%s/%s.swanctl.conf" % (d, who))

    r = swanctl(d, "b", "--initiate", "--child", "net", "--timeout", "20", rc_ok=False, timeout=40)
    check("initiate", r.returncode == 0, r.stdout[-3000:] + r.stderr)
    sas_b = swanctl(d, "b", "--list-sas").stdout
    sas_a = swanctl(d, "a", "--list-sas").stdout
    check("peer established", "ESTABLISHED" in sas_b and "INSTALLED" in sas_b, sas_b)
    check("gateway established", "ESTABLISHED" in sas_a and "INSTALLED" in sas_a, sas_a)
    # After IKE_SA_INIT both moved to 4500 (UDP encapsulation is forced).
    check("nat-t ports", "%s[4500]" % GW in sas_b, sas_b)

    # ESP from the host's libipsec into the TUN must not pass: route the
    # inner traffic into libipsec's own TUN (ipsec0), whose ESP-in-UDP then
    # leaves towards the peer through the bridge's TUN.
    ns(NS_A, "ip", "route", "replace", INNER_B + "/32", "dev", "ipsec0", "src", INNER_A)
    ns(NS_A, sys.executable, "-c", "import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); "
       "s.bind(('%s', 0)); [s.sendto(b'inner datagram', ('%s', 9)) for _ in range(2)]" % (INNER_A, INNER_B))
    # The control thread refuses that ESP when it reads the TUN: wait for
    # its counter (telemetry), up to 20 s on a loaded machine.
    end = time.time() + 20
    not_ike = 0
    while time.time() < end:
        try:
            not_ike = telemetry(PREFIX, "/mipvpn/drops").get("ike_tap", {}).get("not_ike", 0)
        except (OSError, ValueError, KeyError, AttributeError):
            pass
        if not_ike >= 1:
            break
        time.sleep(0.1)
    check("host esp refused (telemetry)", not_ike >= 1, "not_ike %d" % not_ike)

    os.killpg(daemon.pid, signal.SIGTERM)
    try:
        daemon.wait(timeout=20)
    except subprocess.TimeoutExpired:
        daemon.kill()
        sys.exit("FAIL mipvpnd did not stop on SIGTERM")
    reader.join(timeout=5)
    summary = "".join(out)
    print(summary)
    check("exit", daemon.returncode == 0, "rc %d" % daemon.returncode)
    counts = {}
    for line in summary.splitlines():
        f = line.split()
        if f[:1] == ["ike:"]:
            counts = {f[i]: int(f[i + 1]) for i in range(1, len(f) - 1, 2)}
    # IKE_SA_INIT and IKE_AUTH each way at least.
    check("to host", counts.get("ike_to_host", 0) >= 2, summary)
    check("from host", counts.get("ike_from_host", 0) >= 2, summary)
    check("host esp refused", "ike_tap_drop not_ike " in summary, summary)
    print("ike_charon: %d checks passed" % mipvpnd_util.checked)


if __name__ == "__main__":
    main()
