"""A registration flood at the x-HA with good user traffic interleaved
(x-HA + VPN gateway in one mipvpnd), and the bad inputs the other golden
tests do not send.

Outside port (a pcap file, read as fast as the worker takes it: a flood at
line rate): 20000 frames, one in a hundred good ESP from the mobile node's
x-HoA, the rest a flood at UDP 434 of the x-HA: requests with a wrong
authenticator for a known mobile node and requests for an unknown one (both
answered 131, RFC 5944 3.8.2.1), garbage (not a Registration Request),
truncated IPv4 datagrams, and requests with a wrong UDP checksum. Before
them: ESP with a wrong IPv4 header checksum, IP-in-IP to the x-HA whose
inner datagram is truncated or not IPv4, ESP whose decrypted inner
datagram is truncated or not IPv4.
Inside port (a pcap file): replies from the correspondent, ESP outbound.
Uplink port (a veth read live, mipvpnd_util.LiveNet): after the flood, a
valid registration, which must be answered (code 0).

Expected: every good packet comes out (inside: the 200 inner datagrams,
TTL - 1; outside: 50 ESP datagrams that scapy and tshark decrypt); every
flood frame is counted by its reason (stage drops, punt ring overflow, the
home agent's drops and refusals, the 131 replies on the wire); the daemon
stays up, answers the late registration and exits cleanly.

usage: golden_flood.py MIPVPND
"""
import hashlib
import hmac
import os
import random
import re
import shutil
import struct
import subprocess
import sys
import time

import mipvpnd_util  # noqa: E402
from mipvpnd_util import LiveDaemon, check, minus_ttl, ntp_now, pcap_port, signed_rrq, user_datagram, live_net_dir  # noqa: E402,E501
from scapy.all import Ether, IP, UDP, Raw, rdpcap  # noqa: E402
from scapy.layers.ipsec import ESP, SecurityAssociation  # noqa: E402

MIPVPND = sys.argv[1]
TSHARK = shutil.which("tshark")
if TSHARK is None:
    sys.exit("tshark not found: this test needs it (Debian package tshark)")

OUT_MAC, IN_MAC, UP_MAC = "02:00:00:00:00:01", "02:00:00:00:00:02", "02:00:00:00:00:04"
ROUTER_MAC, CN_MAC, MN2_MAC = "02:00:00:00:01:01", "02:00:00:00:02:14", "02:00:00:00:04:4d"
MN_MAC = "02:00:00:00:01:32"
GW, XHA, ROUTER, XHOA, COA = "198.51.100.11", "198.51.100.10", "198.51.100.1", "198.51.100.50", "192.0.2.77"
TIA, CN, COA2 = "10.99.0.5", "10.1.0.20", "203.0.113.77"
SPI_IN, SPI_OUT = 0x1001, 0x2001
KEY_IN = bytes(range(0x10, 0x24))    # AES-128 key || 4-byte salt (RFC 4106)
KEY_OUT = bytes(range(0x40, 0x54))
MN_SPI, MN_KEY = 300, bytes.fromhex("a87a7be5629f2d47f2839c370531778e")
PREFIX = "mipvpn-flood-%d" % os.getpid()
N, GOOD_EVERY, N_DOWN = 20000, 100, 50


def config(net, d):
    sa = ('{ spi = %d; direction = "%s"; suite = "aes-128-gcm"; key = "%s"; src = "%s"; dst = "%s";'
          ' selector = "%s/32"; }')
    return "\n".join([
        'eal = ["--no-huge", "-m", "256", "--no-pci", "--file-prefix=%s"];' % PREFIX,
        'roles = ["xha", "vpngw"];',
        "workers = 1;",
        "ports = ( %s, %s, %s );" % (pcap_port(d, "outside", 0, GW + "/24", OUT_MAC, False),
                                     pcap_port(d, "inside", 1, "10.1.0.1/16", IN_MAC, True),
                                     net.port(d, "uplink", 2, "203.0.113.1/24", UP_MAC, False)),
        'neighbours = ( { address = "%s"; mac = "%s"; port = "outside"; },'
        ' { address = "%s"; mac = "%s"; port = "outside"; },'
        ' { address = "%s"; mac = "%s"; port = "inside"; },'
        ' { address = "%s"; mac = "%s"; port = "uplink"; } );' % (
            ROUTER, ROUTER_MAC, XHOA, MN_MAC, CN, CN_MAC, COA2, MN2_MAC),
        'routes = ( { prefix = "0.0.0.0/0"; via = "%s"; } );' % ROUTER,
        'xha = { addresses = ["%s"]; mobile_nodes = ( { home = "%s"; nai = "mn1@example.org"; '
        'spi = %d; key = "%s"; } ); };' % (XHA, XHOA, MN_SPI, MN_KEY.hex()),
        'vpngw = { address = "%s"; allow_static_gcm = true; sas = ( %s, %s ); };' % (
            GW, sa % (SPI_IN, "in", KEY_IN.hex(), XHOA, GW, TIA), sa % (SPI_OUT, "out", KEY_OUT.hex(), GW, XHOA, TIA)),
    ]) + "\n"


# --- fast frame building for the flood (scapy builds the rest) ---

def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return (~s) & 0xffff


def ip4(a):
    return bytes(map(int, a.split(".")))


ETH_OUT = bytes.fromhex(OUT_MAC.replace(":", "")) + bytes.fromhex(ROUTER_MAC.replace(":", "")) + b"\x08\x00"


def udp_frame(src, dst, sport, dport, payload, ip_id, udp_ck=True, bad_ck=False):
    """Ether / IPv4 / UDP, checksums right (or the UDP one wrong)."""
    ulen = 8 + len(payload)
    ck = 0
    if udp_ck:
        pseudo = ip4(src) + ip4(dst) + struct.pack("!BBH", 0, 17, ulen)
        ck = csum(pseudo + struct.pack("!HHHH", sport, dport, ulen, 0) + payload) or 0xffff
        if bad_ck:
            ck ^= 0x5a5a
    hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + ulen, ip_id, 0, 64, 17, 0, ip4(src), ip4(dst))
    hdr = hdr[:10] + struct.pack("!H", csum(hdr)) + hdr[12:]
    return ETH_OUT + hdr + struct.pack("!HHHH", sport, dport, ulen, ck) + payload


def rrq_body(home, ident, key, nai=b"mn1@example.org", spi=MN_SPI):
    fixed = struct.pack("!BBH4s4s4sQ", 1, 0, 600, ip4(home), ip4(XHA), ip4(COA), ident)
    head = fixed + bytes([131, len(nai)]) + nai + bytes([32, 20]) + struct.pack("!I", spi)
    return head + hmac.new(key, head, hashlib.md5).digest()


def write_pcap(path, frames):
    """Raw frames into a pcap file (LINKTYPE_ETHERNET)."""
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
        for i, fr in enumerate(frames):
            f.write(struct.pack("<IIII", 1700000000 + i // 1000000, i % 1000000, len(fr), len(fr)))
            f.write(fr)


def user(src, dst, i, ttl=20):
    return user_datagram(src, dst, i, ttl, b"good", 0)


def build_inputs(d):
    rnd = random.Random(5265)
    mn_sa = SecurityAssociation(ESP, spi=SPI_IN, crypt_algo="AES-GCM", crypt_key=KEY_IN,
                                tunnel_header=IP(src=XHOA, dst=GW))
    # Transport mode over the same key: an ESP payload that claims IPv4 (next header 4) and is not.
    raw_sa = SecurityAssociation(ESP, spi=SPI_IN, crypt_algo="AES-GCM", crypt_key=KEY_IN)
    eth = Ether(src=ROUTER_MAC, dst=OUT_MAC)
    seq = 0
    frames, up = [], []
    n = {"ipv4_checksum": 3, "ipip_bad_inner": 2, "esp_bad_inner": 2}

    # The bad inputs the other tests do not send.
    for i in range(n["ipv4_checksum"]):
        seq += 1
        f = eth / mn_sa.encrypt(user(TIA, CN, 90000 + i), seq_num=seq)
        b = bytearray(bytes(f))
        b[14 + 10] ^= 0xff  # IPv4 header checksum
        frames.append(bytes(b))
    inner = bytes(user(XHOA, CN, 1))
    frames.append(bytes(eth / IP(src=COA, dst=XHA, proto=4) / Raw(inner[:30])))          # inner truncated
    frames.append(bytes(eth / IP(src=COA, dst=XHA, proto=4) / Raw(b"\x60" + inner[1:])))  # inner not IPv4
    for i, bad in enumerate([inner[:30], b"\x60" + inner[1:]]):
        seq += 1
        p = raw_sa.encrypt(IP(src=XHOA, dst=GW, proto=4) / Raw(bad), seq_num=seq)
        frames.append(bytes(eth / p))

    # The flood, with good ESP interleaved.
    kinds = {"bad_auth": 0, "unknown_mn": 0, "garbage": 0, "truncated": 0, "udp_checksum": 0}
    now = ntp_now()
    for i in range(N):
        if i % GOOD_EVERY == GOOD_EVERY // 2:
            seq += 1
            u = user(TIA, CN, i)
            up.append(u)
            frames.append(bytes(eth / mn_sa.encrypt(u, seq_num=seq)))
            continue
        src = "192.0.2.%d" % rnd.randrange(1, 255)
        sport = rnd.randrange(1024, 65535)
        r = rnd.random()
        if r < 0.60:
            kinds["bad_auth"] += 1
            body = rrq_body(XHOA, now + i, os.urandom(16))
            frames.append(udp_frame(src, XHA, sport, 434, body, i & 0xffff))
        elif r < 0.70:
            kinds["unknown_mn"] += 1
            body = rrq_body("198.51.100.%d" % rnd.randrange(100, 200), now + i, os.urandom(16),
                            nai=b"nobody%d@example.org" % i, spi=rnd.randrange(256, 1 << 32))
            frames.append(udp_frame(src, XHA, sport, 434, body, i & 0xffff))
        elif r < 0.85:
            kinds["garbage"] += 1
            g = bytearray(os.urandom(rnd.randrange(1, 80)))
            if g[0] in (1, 4):  # neither a request nor tunnel data
                g[0] = 7
            frames.append(udp_frame(src, XHA, sport, 434, bytes(g), i & 0xffff, udp_ck=rnd.random() < 0.5))
        elif r < 0.95:
            kinds["truncated"] += 1
            f = udp_frame(src, XHA, sport, 434, rrq_body(XHOA, now + i, os.urandom(16)), i & 0xffff)
            frames.append(f[:14 + rnd.randrange(20, 60)])  # total length says more
        else:
            kinds["udp_checksum"] += 1
            body = rrq_body(XHOA, now + i, os.urandom(16))
            frames.append(udp_frame(src, XHA, sport, 434, body, i & 0xffff, bad_ck=True))
    write_pcap(d + "/outside_in.pcap", frames)

    down = [user(CN, TIA, 100000 + i, ttl=30) for i in range(N_DOWN)]
    write_pcap(d + "/inside_in.pcap", [bytes(Ether(src=CN_MAC, dst=IN_MAC) / p) for p in down])
    return len(frames), up, down, kinds, n


def run(net, d):
    n_out, up, down, kinds, bad = build_inputs(d)
    print("flood:", kinds, "bad inputs:", bad, "good in:", len(up), "good out:", len(down))
    with open(d + "/mipvpnd.conf", "w") as f:
        f.write(config(net, d))
    t0 = time.time()
    dm = LiveDaemon(MIPVPND, d + "/mipvpnd.conf", PREFIX)
    try:
        run_live(net, d, dm, n_out, up, down, kinds, bad, t0)
    finally:
        dm.kill()


def run_live(net, d, dm, n_out, up, down, kinds, bad, t0):
    # The files are read at once; the control thread then works off what it
    # was handed: settled when two reads 0.2 s apart agree. (The late
    # registration below, punted after all of it, orders the checks anyway.)
    dm.wait("the flood read", lambda s: s["ports"]["rx"] >= n_out + len(down), timeout=40)
    st = dm.settle(timeout=40)
    print("flood taken in %.1f s: %s" % (time.time() - t0, st["control"]))

    # After the flood: a valid registration on the uplink is answered.
    ident = ntp_now() + 1
    net.send("uplink", [Ether(src=MN2_MAC, dst=UP_MAC) / IP(src=COA2, dst=XHA) / UDP(sport=434, dport=434) /
                        Raw(signed_rrq(XHOA, XHA, COA2, ident, MN_SPI, MN_KEY))])
    st = dm.wait("the late registration", lambda s: s["xha"]["accepted"] >= 1)
    check("late registration accepted", st["xha"]["accepted"] == 1 and st["xha"]["bindings"] == 1, st["xha"])
    dr = dm.drops()
    out = dm.stop(show=40)

    # Every good packet came out.
    got = rdpcap(d + "/inside_w0.pcap")
    check("inside count", len(got) == len(up), "%d of %d" % (len(got), len(up)))
    for i, p in enumerate(got):
        if bytes(p[IP]) != minus_ttl(up[i]):
            check("inside packet %d" % i, False, p.show(dump=True))
    check("inside packets", True)
    got = rdpcap(d + "/outside_w0.pcap")
    check("outside count", len(got) == len(down), "%d of %d" % (len(got), len(down)))
    gw_sa = SecurityAssociation(ESP, spi=SPI_OUT, crypt_algo="AES-GCM", crypt_key=KEY_OUT,
                                tunnel_header=IP(src=GW, dst=XHOA))
    for i, p in enumerate(got):
        dec = gw_sa.decrypt(IP(bytes(p[IP])))
        if p[Ether].dst != MN_MAC or p[IP].src != GW or p[IP].dst != XHOA or bytes(dec) != minus_ttl(down[i]):
            check("outside packet %d" % i, False, dec.show(dump=True))
    check("outside packets", True)
    uat = '"IPv4","%s","%s","0x%08x","AES-GCM with 16 octet ICV [RFC4106]","0x%s","NULL",""' % (
        GW, XHOA, SPI_OUT, KEY_OUT.hex())
    t = subprocess.run([TSHARK, "-r", d + "/outside_w0.pcap", "-o", "esp.enable_encryption_decode:TRUE",
                        "-o", "esp.enable_authentication_check:TRUE", "-o", "uat:esp_sa:" + uat,
                        "-T", "fields", "-e", "esp.icv_good"], capture_output=True, text=True)
    check("tshark esp", t.returncode == 0 and t.stdout.split() == ["1"] * len(down), t.stdout[:500] + t.stderr)

    # The bad inputs, by reason.
    s, e, h, rt = dr["stage"], dr["esp_inb"], dr["xha"], dr["runtime"]
    print("drops:", {k: v for k, v in s.items() if v}, {k: v for k, v in e.items() if v},
          {k: v for k, v in h.items() if v}, {k: v for k, v in rt.items() if v})
    check("ipv4 header checksum + udp checksum", s["bad_checksum"] == bad["ipv4_checksum"] + kinds["udp_checksum"], s)
    check("truncated", s["truncated"] == kinds["truncated"], s)
    check("ip-in-ip bad inner", s["bad_inner"] == bad["ipip_bad_inner"], s)
    check("esp bad inner", s["esp_inbound"] == bad["esp_bad_inner"] and e["bad_inner"] == bad["esp_bad_inner"], (s, e))
    check("no other stage drop", sum(s.values()) == s["bad_checksum"] + s["truncated"] + s["bad_inner"] +
          s["esp_inbound"], s)

    # The flood at the control thread: what reached it is accounted for by
    # the home agent (a reply or a drop reason); the rest was over its
    # source's rate (punt.rate_per_source) or overflowed the punt ring.
    c, x = st["control"], st["xha"]
    punted_flood = kinds["bad_auth"] + kinds["unknown_mn"] + kinds["garbage"]
    flood_regs = c["registrations"] - 1  # less the late one
    check("punt ring overflow and policing counted",
          flood_regs + rt["punt_ring_full"] + rt["punt_policed"] == punted_flood,
          "%d + %d + %d != %d" % (flood_regs, rt["punt_ring_full"], rt["punt_policed"], punted_flood))
    check("home agent accounts for each", x["refused"] + sum(h.values()) == flood_regs, (x, h, c))
    check("garbage dropped by the home agent", h["truncated"] + h["bad_type"] > 0, h)
    check("nothing else", c["not_for_agent"] == 0 and c["other"] == 0 and c["reply_send_failed"] == 0 and
          c["reply_no_route"] == 0, c)
    got = rdpcap(d + "/outside_ctl.pcap")
    codes = [bytes(p[UDP].payload)[1] for p in got if UDP in p and p[UDP].sport == 434]
    check("131 replies on the wire", len(codes) == x["refused"] == c["replies_sent"] - 1 and set(codes) <= {131},
          "%d replies, refused %d, codes %s" % (len(codes), x["refused"], sorted(set(codes))))
    check("131 replies counted", len(codes) > 0, "none")

    # The late registration's reply, on the uplink.
    got = rdpcap(d + "/uplink_ctl.pcap")
    rrps = [p for p in got if UDP in p and p[UDP].sport == 434]
    check("late reply", len(rrps) == 1 and rrps[0][IP].dst == COA2 and rrps[0][Ether].dst == MN2_MAC and
          bytes(rrps[0][UDP].payload)[:2] == b"\x03\x00" and
          bytes(rrps[0][UDP].payload)[12:20] == struct.pack("!Q", ident), [p.summary() for p in got])
    check("summary: registered", "xha: bindings 1 registered 1" in out, out[-3000:])

    # A registration flood is no log flood: refusals pass the x-HA's log
    # rate limit (log_rate_per_s 1, log_burst 5), the rest are counted.
    lines = out.count(" registration from ")
    m = re.search(r"registrations (\d+) .* log_suppressed (\d+)", out)
    check("log lines rate-limited", m and lines + int(m.group(2)) == int(m.group(1)) and
          lines <= 5 + int(time.time() - t0) + 2 and int(m.group(2)) > 0, "%d lines, %s" % (lines, m and m.group(0)))
    print("golden flood: %d checks passed" % mipvpnd_util.checked)


def main():
    with live_net_dir("mipvpn-flood-", ["uplink"]) as (net, d):
        run(net, d)


if __name__ == "__main__":
    main()
