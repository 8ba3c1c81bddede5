"""The IKE bridge end to end (docs/ike.md): mipvpnd as a VPN gateway in a
network namespace this test creates, on a net_pcap port (input pcap, one
output pcap per TX queue), with the ike section's TUN interface created
beforehand as the operator may do it (persistent, its address and route
set): mipvpnd attaches to it, and the test's listeners are in place before
the port reads its input.

- Wire to host: an IKE_SA_INIT (scapy's IKEv2) to the gateway on UDP 500
  and one on UDP 4500 behind the RFC 3948 non-ESP marker, in the input
  pcap: both reach the TUN unchanged (tcpdump on it) and UDP sockets bound
  to the gateway's address there (as an IKE daemon binds it).
- Host to wire: IKE the test sends from those sockets (500, and 4500 with
  the marker) comes out of the port's control TX pcap with the right
  Ethernet (our MAC -> the router's) and IP/UDP headers and payload.
- Refused: a UDP datagram from another source port and ESP-in-UDP (no
  marker) written into the TUN do not come out; the exit summary and
  /mipvpn/stats, /mipvpn/drops (mipvpnctl) count them by reason.
- The TUN outlives mipvpnd with its address (persistent).

usage: ike_bridge.py MIPVPND MIPVPNCTL   (root: namespaces, veth, TUN)
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

import mipvpnd_util  # noqa: E402
from mipvpnd_util import check  # noqa: E402

MIPVPND, MIPVPNCTL = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
NS = "mipvpn-ike-%d" % os.getpid()
PREFIX = "mipvpn-ike-%d" % os.getpid()
TAP = "mvike%d" % (os.getpid() % 100000)
OUT_MAC, ROUTER_MAC = "02:00:00:00:00:01", "02:00:00:00:01:01"
GW, ROUTER, PEER = "198.51.100.11", "198.51.100.1", "203.0.113.5"
MARKER = bytes(4)  # RFC 3948 2.2


def sh(*cmd):
    r = subprocess.run(list(cmd), capture_output=True, text=True)
    check(" ".join(cmd), r.returncode == 0, r.stdout + r.stderr)
    return r.stdout


def config(d):
    dev = "net_pcap0,rx_pcap=%s/outside_in.pcap,tx_pcap=%s/outside_w0.pcap,tx_pcap=%s/outside_ctl.pcap" % (
        d, d, d)
    return "\n".join([
        'eal = ["--no-huge", "-m", "256", "--no-pci", "--file-prefix=%s"];' % PREFIX,
        'roles = ["vpngw"];',
        "workers = 1;",
        'ports = ( { name = "outside"; device = "%s"; address = "%s/24"; mac = "%s"; } );' % (dev, GW, OUT_MAC),
        'neighbours = ( { address = "%s"; mac = "%s"; port = "outside"; } );' % (ROUTER, ROUTER_MAC),
        'routes = ( { prefix = "0.0.0.0/0"; via = "%s"; } );' % ROUTER,
        'vpngw = { address = "%s"; };' % GW,
        'ike = { tap = "%s"; mtu = 1400; };' % TAP,
    ]) + "\n"


def ike_sa_init(spi, nonce):
    """An IKE_SA_INIT request (RFC 7296 1.2): SA (AES-CBC-128, HMAC-SHA2-256,
    PRF-HMAC-SHA2-256, MODP 2048), KE, Nonce."""
    from scapy.contrib.ikev2 import (IKEv2, IKEv2_payload_KE, IKEv2_payload_Nonce, IKEv2_payload_Proposal,
                                     IKEv2_payload_SA, IKEv2_payload_Transform)
    t = (IKEv2_payload_Transform(transform_type="Encryption", transform_id=12, next_payload="Transform") /
         IKEv2_payload_Transform(transform_type="PRF", transform_id=5, next_payload="Transform") /
         IKEv2_payload_Transform(transform_type="Integrity", transform_id=12, next_payload="Transform") /
         IKEv2_payload_Transform(transform_type="GroupDesc", transform_id=14))
    p = (IKEv2(init_SPI=spi, exch_type=34, flags="Initiator") /
         IKEv2_payload_SA(prop=IKEv2_payload_Proposal(trans_nb=4, trans=t)) /
         IKEv2_payload_KE(group=14, load=bytes(range(256))) / IKEv2_payload_Nonce(load=nonce))
    return bytes(p)


def main():
    if os.geteuid() != 0:
        sys.exit("FAIL this test needs root (network namespace, veth, TUN)")
    # meson's timeout sends SIGTERM to the test's process group (this
    # process and the inside one), SIGKILL 0.5 s later: as sys.exit, the
    # finally blocks below end mipvpnd, tcpdump and the namespace.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("FAIL terminated"))
    if len(sys.argv) > 3 and sys.argv[3] == "--inside":
        inside(sys.argv[4])
        return
    d = tempfile.mkdtemp(prefix="mipvpn-ike-")
    sh("ip", "netns", "add", NS)
    child = None
    try:
        child = subprocess.Popen(["ip", "netns", "exec", NS, sys.executable, os.path.abspath(__file__), MIPVPND,
                                  MIPVPNCTL, "--inside", d])
        try:
            rc = child.wait(timeout=170)
        except subprocess.TimeoutExpired:
            sys.exit("FAIL the test inside the namespace took over 170 s")
        if rc != 0:
            sys.exit(rc)
    finally:
        if child is not None and child.poll() is None:
            # Terminated too: give its own finally blocks a moment, then end it.
            try:
                child.wait(timeout=0.3)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
        subprocess.run(["ip", "netns", "del", NS], capture_output=True)
        shutil.rmtree(d, ignore_errors=True)


def end_group(proc):
    """SIGKILL a child started in its own session, with what it started; reap it."""
    if proc is not None and proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait()


def wait_tcpdump(dump, seconds=20):
    """Until tcpdump says "listening on" (stderr): it captures from then on.
    A thread keeps reading its stderr (returned lines), so it never blocks."""
    lines = []
    ready = threading.Event()

    def read():
        for line in iter(dump.stderr.readline, ""):
            lines.append(line)
            if "listening on" in line:
                ready.set()
        ready.set()
    threading.Thread(target=read, daemon=True).start()
    ready.wait(seconds)
    check("tcpdump listening", dump.poll() is None and any("listening on" in x for x in lines), "".join(lines))
    return lines


def ctl_json(cmd):
    """mipvpnctl --json CMD -> (its value, its stdout)."""
    r = subprocess.run([MIPVPNCTL, "--file-prefix", PREFIX, "--json", cmd], capture_output=True, text=True,
                       timeout=30)
    check("mipvpnctl " + cmd, r.returncode == 0, r.stdout + r.stderr)
    return json.loads(r.stdout)["/mipvpn/" + cmd], r.stdout


def wait_for(what, cond, proc, out, seconds=20):
    """Poll cond() up to `seconds`; FAIL with mipvpnd's output when it does
    not hold in time or mipvpnd exits."""
    end = time.time() + seconds
    while time.time() < end:
        if cond():
            return
        if proc.poll() is not None:
            break
        time.sleep(0.1)
    proc.kill()
    time.sleep(0.5)
    sys.exit("FAIL %s; mipvpnd said:\n%s" % (what, "".join(out)))


def inside(d):
    procs = {}
    try:
        run_inside(d, procs)
    finally:
        for p in procs.values():
            end_group(p)
        mipvpnd_util.remove_eal_dir(PREFIX)


def run_inside(d, procs):
    import socket
    from scapy.all import IP, UDP, Ether, Raw, rdpcap, wrpcap

    for k in ("all", "default"):
        sh("sysctl", "-qw", "net.ipv6.conf.%s.disable_ipv6=1" % k)  # no router solicitations on the TUN
    sh("ip", "link", "set", "lo", "up")
    # The host side, as docs/ike.md tells the operator: a persistent TUN
    # (multi_queue, as DPDK's TAP driver opens it) with the gateway's
    # address, the peers routed through it.
    sh("ip", "tuntap", "add", "dev", TAP, "mode", "tun", "multi_queue")
    sh("ip", "addr", "add", GW + "/32", "dev", TAP)
    sh("ip", "link", "set", TAP, "up")
    sh("ip", "route", "add", PEER + "/32", "dev", TAP)
    socks = {}
    for port in (500, 4500, 5353):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind((GW, port))
        s.settimeout(10)
        socks[port] = s
    # --immediate-mode: each packet reaches the file when captured (else the
    # capture ring holds a block up to its timeout, lost if tcpdump ends first).
    dump = subprocess.Popen(["tcpdump", "-i", TAP, "-n", "-U", "--immediate-mode", "-w", d + "/tun.pcap", "udp"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, start_new_session=True)
    procs["tcpdump"] = dump
    wait_tcpdump(dump)

    # Wire -> host: what the port reads as soon as it starts.
    init500 = ike_sa_init(b"\x11" * 8, bytes(range(32)))
    init4500 = MARKER + ike_sa_init(b"\x22" * 8, bytes(range(32, 64)))
    wire = [IP(src=PEER, dst=GW, id=1) / UDP(sport=500, dport=500) / Raw(init500),
            IP(src=PEER, dst=GW, id=2) / UDP(sport=4500, dport=4500) / Raw(init4500)]
    wire = [IP(bytes(p)) for p in wire]  # lengths and checksums filled
    wrpcap(d + "/outside_in.pcap", [Ether(src=ROUTER_MAC, dst=OUT_MAC) / p for p in wire])
    conf = d + "/mipvpnd.conf"
    with open(conf, "w") as f:
        f.write(config(d))
    r = subprocess.run([MIPVPND, "--check", "-c", conf], capture_output=True, text=True)
    check("check", r.returncode == 0, r.stdout + r.stderr)

    proc = subprocess.Popen([MIPVPND, "-c", conf, "--idle-sleep-us", "200"], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)
    procs["mipvpnd"] = proc
    out = []
    reader = threading.Thread(target=lambda: out.extend(iter(proc.stdout.readline, "")), daemon=True)
    reader.start()
    wait_for("mipvpnd did not start", lambda: any("mipvpnd: running" in line for line in out), proc, out,
             seconds=60)
    check("bridged", any(("bridged to interface " + TAP) in line for line in out), "".join(out))
    mtu = open("/sys/class/net/%s/mtu" % TAP).read().strip()
    check("tun mtu", mtu == "1400", mtu)

    for port, want in ((500, init500), (4500, init4500)):
        try:
            data, src = socks[port].recvfrom(4096)
        except socket.timeout:
            data, src = b"", None
        check("host socket %d" % port, data == want and src == (PEER, port), "got %r from %r" % (data[:40], src))

    # Host -> wire: the IKE daemon's answers, then what must not pass.
    resp500 = ike_sa_init(b"\x11" * 8, bytes(range(64, 96)))
    resp4500 = MARKER + ike_sa_init(b"\x22" * 8, bytes(range(96, 128)))
    socks[500].sendto(resp500, (PEER, 500))
    socks[4500].sendto(resp4500, (PEER, 4500))
    socks[5353].sendto(b"not ike at all" * 4, (PEER, 53))                  # not_ike_port
    socks[4500].sendto(bytes.fromhex("00001001") + bytes(60), (PEER, 4500))  # ESP-in-UDP: not_ike

    # The control thread reads the TUN on its ticks: poll until it has
    # taken all four (up to 20 s on a loaded machine), then check.
    end = time.time() + 20
    while True:
        st, stats = ctl_json("stats")
        ike = st.get("ike", {})
        dr, drops = ctl_json("drops")
        tap_drops = dr.get("ike_tap", {})
        if (ike.get("ike_from_host", 0) >= 2 and tap_drops.get("not_ike_port", 0) >= 1 and
                tap_drops.get("not_ike", 0) >= 1) or time.time() > end:
            break
        time.sleep(0.1)
    check("stats ike", ike.get("ike_to_host") == 2 and ike.get("ike_from_host") == 2 and
          ike.get("ike_tap_drop", 0) >= 2, stats)
    check("drops ike_tap", tap_drops.get("not_ike_port") == 1 and tap_drops.get("not_ike") == 1, drops)

    dump.terminate()
    dump.wait(timeout=10)
    del procs["tcpdump"]
    summary = stop_daemon_threaded(proc, reader, out)
    del procs["mipvpnd"]

    # What the TUN carried towards the host: the datagrams as they arrived.
    tun = [bytes(p) for p in rdpcap(d + "/tun.pcap")]
    tun_in = [b for b in tun if IP(b).dst == GW]
    check("tun to host", tun_in == [bytes(p) for p in wire],
          "%r vs %r" % ([IP(b).summary() for b in tun_in], [p.summary() for p in wire]))

    # What went out of the port: exactly the two IKE answers.
    got = rdpcap(d + "/outside_ctl.pcap")
    check("port tx count", len(got) == 2, [p.summary() for p in got])
    for p, (sport, payload) in zip(got, ((500, resp500), (4500, resp4500))):
        check("eth", p[Ether].src == OUT_MAC and p[Ether].dst == ROUTER_MAC and p[Ether].type == 0x0800,
              p.summary())
        ip = IP(bytes(p[IP]))
        check("ip", ip.src == GW and ip.dst == PEER and ip.proto == 17 and ip.ttl > 0, ip.summary())
        del ip.chksum
        check("ip checksum", IP(bytes(ip)).chksum == IP(bytes(p[IP])).chksum, ip.summary())
        check("udp", p[UDP].sport == sport and p[UDP].dport == sport and bytes(p[UDP].payload) == payload,
              p.summary())
    check("worker queue empty", not os.path.exists(d + "/outside_w0.pcap") or
          len(rdpcap(d + "/outside_w0.pcap")) == 0)

    check("summary to/from", "ike_to_host 2 ike_from_host 2" in summary, summary)
    check("summary not_ike_port", "ike_tap_drop not_ike_port 1" in summary, summary)
    check("summary not_ike", "ike_tap_drop not_ike 1" in summary, summary)
    # Persistent: the interface and its address stay for the next start.
    check("tun kept", os.path.exists("/sys/class/net/" + TAP))
    check("tun address kept", GW in sh("ip", "-4", "addr", "show", "dev", TAP))
    print("ike_bridge: %d checks passed" % mipvpnd_util.checked)


def stop_daemon_threaded(proc, reader, out):
    """SIGTERM mipvpnd (its stdout is read by a thread), wait, check rc 0."""
    import signal
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        sys.exit("FAIL mipvpnd did not stop on SIGTERM")
    reader.join(timeout=5)
    text = "".join(out)
    print(text)
    check("exit", proc.returncode == 0, "rc %d" % proc.returncode)
    return text


if __name__ == "__main__":
    main()
