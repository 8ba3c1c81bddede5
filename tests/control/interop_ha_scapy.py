#!/usr/bin/python3
"""The home agent against scapy and tshark (peers nobody here wrote).

scapy (scapy.layers.mobileip) builds Registration Requests; the extensions
are raw bytes laid out from RFC 2794 (NAI), RFC 3519 3.1 (UDP Tunnel
Request) and RFC 5944 3.5.2 (MN-HA authentication, HMAC-MD5 from Python's
hmac over the bytes RFC 5944 3.5.1 names). Our home agent (mip_tool ha)
answers; scapy dissects each reply, Python's hmac checks its
authenticator, and tshark (-V -O mip) must decode every reply with no
malformed field or expert warning.

Cases: accepted (x-HA), accepted with UDP tunnelling behind a NAT, signed
with the wrong key -> 131, replayed -> 133, i-HA trusted source -> accepted
with TNC covered by the authenticator, i-HA untrusted source -> no reply and
exactly one log line. A missing scapy or tshark fails the test."""
import hashlib
import hmac
import os
import shutil
import struct
import subprocess
import sys
import tempfile

from scapy.all import IP, UDP, Raw, wrpcap  # noqa: E402
from scapy.layers.mobileip import MobileIP, MobileIPRRP, MobileIPRRQ  # noqa: E402

tool = sys.argv[1]
SPI = 0x1000
KEY = bytes(range(1, 17))
WRONG = bytes(range(2, 18))
NOW = 1700000000
NTP = (NOW + 2208988800) << 32
HOME, HA, COA = "10.1.0.5", "10.1.0.1", "192.0.2.7"
checked = 0

TSHARK = shutil.which("tshark")
if TSHARK is None:
    sys.exit("tshark not found: the interop test needs it (Debian package tshark)")


def check(name, cond, info=""):
    global checked
    assert cond, (name, info)
    checked += 1


def ext(t, data):
    return bytes([t, len(data)]) + data


def request(ident, key=KEY, lifetime=600, flags=0, utrq=None, nai=b"mn5@example.org"):
    exts = ext(131, nai)
    if utrq is not None:
        f, encap = utrq
        exts += ext(144, struct.pack("!BBBBH", 0, 0, f << 7, encap, 0))
    p = MobileIP(type=1) / MobileIPRRQ(flags=flags, lifetime=lifetime, homeaddr=HOME, haaddr=HA,
                                       coaddr=COA, id=ident) / Raw(exts)
    head = bytes(p) + bytes([32, 20]) + struct.pack("!I", SPI)
    return head + hmac.new(key, head, hashlib.md5).digest()


def run_ha(role, lines):
    """Each input line gives zero or more 'log' lines, then one result line."""
    out = subprocess.run([tool, "ha", str(SPI), KEY.hex(), role], input="\n".join(lines) + "\n",
                         capture_output=True, text=True, check=True).stdout.splitlines()
    results, logs, cur = [], [], []
    for line in out:
        if line.startswith("log "):
            cur.append(line[4:])
        else:
            results.append(line)
            logs.append(cur)
            cur = []
    assert len(results) == len(lines), (out, lines)
    return results, logs


def walk(raw, first):
    out, off = [], first
    while off < len(raw):
        t, n = raw[off], raw[off + 1]
        out.append((t, off, raw[off + 2:off + 2 + n]))
        off += 2 + n
    assert off == len(raw)
    return out


def check_reply(name, line, code, ident, lifetime=None, tnc=False, utrp=None):
    """Dissect with scapy, verify with Python's hmac; returns the raw bytes."""
    check(name + " replied", line.startswith("reply "), line)
    raw = bytes.fromhex(line.split()[1])
    m = MobileIP(raw)
    check(name + " type", m.type == 3, m.summary())
    q = m[MobileIPRRP]
    check(name + " code", q.code == code, (q.code, code))
    check(name + " home", q.homeaddr == HOME, q.homeaddr)
    check(name + " ha", q.haaddr == HA, q.haaddr)
    check(name + " id low", q.id & 0xffffffff == ident & 0xffffffff, hex(q.id))
    if code == 133:
        check(name + " id high is HA time", q.id >> 32 == NTP >> 32, hex(q.id))
    else:
        check(name + " id echoed", q.id == ident, hex(q.id))
    if lifetime is not None:
        check(name + " lifetime", q.lifetime == lifetime, q.lifetime)
    exts = walk(raw, 20)
    auth = [e for e in exts if e[0] == 32]
    check(name + " one auth", len(auth) == 1, exts)
    _, off, data = auth[0]
    check(name + " auth spi", data[:4] == struct.pack("!I", SPI))
    mac = hmac.new(KEY, raw[:off + 6], hashlib.md5).digest()
    check(name + " hmac verifies", hmac.compare_digest(mac, data[4:]), raw.hex())
    tncs = [e for e in exts if e[0] == 149]
    if tnc:
        check(name + " tnc", len(tncs) == 1 and tncs[0][2] == b"\x00\x00", exts)
        check(name + " tnc covered", tncs[0][1] < off)
    else:
        check(name + " no tnc", not tncs, exts)
    utrps = [e for e in exts if e[0] == 44]
    if utrp is None:
        check(name + " no utrp", not utrps, exts)
    else:
        check(name + " utrp", len(utrps) == 1 and utrps[0][1] < off, exts)
        sub, rc, fl, ka = struct.unpack("!BBHH", utrps[0][2])
        check(name + " utrp fields", (sub, rc, ka) == (0, utrp[0], utrp[1]), (sub, rc, fl, ka))
    return raw


def meta(src=COA, sport=434):
    return "src=%s sport=%d internal=0 now=%d" % (src, sport, NOW)


replies = []

# ---- x-HA ----
id1, id2, id3, id4 = NTP + 1, NTP + 2, NTP + 3, NTP + 4
reqs = [
    request(id1),                                   # accepted
    request(id1),                                   # the same bytes again: replayed -> 133
    request(id2, key=WRONG),                        # wrong key -> 131
    request(id3, utrq=(0, 4), lifetime=5000),       # behind a NAT: UDP tunnelling, clamp 1800
    request(id4, lifetime=0),                       # deregistration
]
metas = [meta(), meta(), meta(), meta("198.51.100.9", 40001), meta()]
res, logs = run_ha("xha", ["%s %s" % (r.hex(), m) for r, m in zip(reqs, metas)])
replies.append(check_reply("ok", res[0], 0, id1, lifetime=600))
replies.append(check_reply("replayed", res[1], 133, id1))
replies.append(check_reply("wrong key", res[2], 131, id2))
replies.append(check_reply("udp tunnel", res[3], 0, id3, lifetime=1800, utrp=(0, 110)))
replies.append(check_reply("deregistration", res[4], 0, id4, lifetime=0))
check("x-HA no log", all(not l for l in logs), logs)

# ---- i-HA ----
res, logs = run_ha("iha:192.0.2.0/24,10.200.0.0/16",
                   ["%s %s" % (request(id1).hex(), meta()),
                    "%s %s" % (request(id2).hex(), meta("203.0.113.8", 5555))])
replies.append(check_reply("i-HA trusted", res[0], 0, id1, lifetime=600, tnc=True))
check("i-HA trusted no log", not logs[0], logs)
check("i-HA untrusted dropped", res[1] == "drop untrusted_source", res[1])
check("i-HA untrusted one log line", len(logs[1]) == 1, logs[1])
check("i-HA log names source", "203.0.113.8" in logs[1][0], logs[1])
check("i-HA log names home", "10.1.0.5" in logs[1][0] and "mn5@example.org" in logs[1][0], logs[1])

# ---- tshark decodes every reply cleanly ----
pkts = [IP(src=HA, dst=COA) / UDP(sport=434, dport=434) / Raw(r) for r in replies]
with tempfile.TemporaryDirectory() as d:
    pcap = os.path.join(d, "ha.pcap")
    wrpcap(pcap, pkts)
    text = subprocess.run([TSHARK, "-r", pcap, "-V", "-O", "mip"], capture_output=True,
                          text=True, check=True).stdout
    check("tshark no malformed", "Malformed" not in text and "malformed" not in text)
    check("tshark no expert", "Expert Info" not in text)
    check("tshark auth", "Mobile-Home Authentication Extension" in text)
    check("tshark utrp", "UDP Tunnel Reply Extension" in text)
    check("tshark tnc", "Trusted Networks Configured" in text or "(149)" in text)
    rows = subprocess.run([TSHARK, "-r", pcap, "-T", "fields", "-E", "separator=;",
                           "-e", "mip.type", "-e", "mip.code", "-e", "mip.auth.spi",
                           "-e", "_ws.expert", "-e", "_ws.malformed"],
                          capture_output=True, text=True, check=True).stdout.splitlines()
    check("tshark rows", len(rows) == len(pkts), rows)
    for row, want in zip(rows, [0, 133, 131, 0, 0, 0]):
        typ, code, spi, expert, malformed = row.split(";")
        check("tshark type", typ == "3", row)
        check("tshark code", int(code) == want, row)
        check("tshark spi", int(spi, 0) == SPI, row)
        check("tshark clean", expert == "" and malformed == "", row)

print("interop_ha_scapy: %d checks passed" % checked)
