#!/usr/bin/python3
"""Mobile IPv4 registration codec against scapy and tshark (peers nobody here wrote).

scapy (scapy.layers.mobileip) builds Registration Requests and Replies; the
extensions are raw bytes laid out from RFC 2794 (NAI), RFC 3519 (UDP tunnel
request/reply), RFC 3543 (revocation support), RFC 5265 3.4 (TNC) and RFC
5944 3.5.2 (MN-HA authentication), the authenticator from Python's hmac over
exactly the bytes RFC 5944 3.5.1 names. Our parser must agree on every field
and our verify must accept scapy's authenticator and refuse it under a wrong
key. Our builder's messages must dissect in scapy with the same fields, their
authenticators must verify with Python's hmac, and tshark (-V -O mip) must
decode a pcap of them with no malformed packet or expert warning and show the
TNC extension (type 149). A missing scapy or tshark fails the test."""
import hashlib
import hmac
import os
import random
import shutil
import struct
import subprocess
import sys
import tempfile

from scapy.all import IP, UDP, Raw, wrpcap  # noqa: E402
from scapy.layers.mobileip import MobileIP, MobileIPRRP, MobileIPRRQ  # noqa: E402

tool = sys.argv[1]
rng = random.Random(5944)
SPI = 0x1000
KEY = bytes(range(1, 17))
WRONG = bytes(range(2, 18))
checked = 0

TSHARK = shutil.which("tshark")
if TSHARK is None:
    sys.exit("tshark not found: the interop test needs it (Debian package tshark)")


def run(cmd, lines, key=KEY, spi=SPI):
    out = subprocess.run([tool, cmd, str(spi), key.hex()], input="\n".join(lines) + "\n",
                         capture_output=True, text=True, check=True).stdout.splitlines()
    assert len(out) == len(lines), (cmd, len(out), len(lines))
    return out


def fields(line):
    """'ok req a=1 b=2' -> ('req', {'a': '1', 'b': '2'})."""
    parts = line.split()
    assert parts[0] == "ok", line
    return parts[1], dict(p.split("=", 1) for p in parts[2:])


def addr():
    return ".".join(str(rng.randrange(1, 255)) for _ in range(4))


def ext(t, data):
    return bytes([t, len(data)]) + data


def mn_ha_sign(msg, key=KEY, spi=SPI):
    """RFC 5944 3.5.1: HMAC-MD5 over the message through the SPI."""
    head = msg + bytes([32, 20]) + struct.pack("!I", spi)
    return head + hmac.new(key, head, hashlib.md5).digest()


def walk(raw, first):
    """Our own reading of the extension area: [(type, offset, data)]."""
    out, off = [], first
    while off < len(raw):
        t, n = raw[off], raw[off + 1]
        out.append((t, off, raw[off + 2:off + 2 + n]))
        off += 2 + n
    assert off == len(raw)
    return out


def check(name, cond, info=""):
    global checked
    assert cond, (name, info)
    checked += 1


# ---- scapy -> our parser and verify ----
reqs, want = [], []
for i in range(300):
    flags = rng.randrange(256)
    lifetime = rng.randrange(65536)
    home, ha, coa = addr(), addr(), addr()
    ident = rng.getrandbits(64)
    nai = "mn%d@example%d.org" % (i, rng.randrange(100))
    exts = ext(131, nai.encode())
    utrq = None
    if i % 3:
        utrq = (0, rng.randrange(256), rng.randrange(2), rng.randrange(2), rng.randrange(64),
                rng.choice([4, 47, 55]), rng.randrange(65536))
        exts += ext(144, struct.pack("!BBBBH", utrq[0], utrq[1],
                                     (utrq[2] << 7) | (utrq[3] << 6) | utrq[4], utrq[5], utrq[6]))
    if i % 5 == 0:
        exts += ext(200 + i % 50, bytes(rng.randrange(256) for _ in range(rng.randrange(10))))
    p = MobileIP(type=1) / MobileIPRRQ(flags=flags, lifetime=lifetime, homeaddr=home,
                                       haaddr=ha, coaddr=coa, id=ident) / Raw(exts)
    raw = mn_ha_sign(bytes(p))
    reqs.append(raw.hex())
    want.append(dict(flags=str(flags), lifetime=str(lifetime), home=home, ha=ha, coa=coa,
                     id="%016x" % ident, nai=nai.encode().hex(),
                     utrq=",".join(str(v) for v in utrq) if utrq else "-",
                     spi=str(SPI), auth="ok", tnc="0"))
for line, w in zip(run("parse", reqs), want):
    kind, f = fields(line)
    check("rrq kind", kind == "req", line)
    for k, v in w.items():
        check("rrq " + k, f[k] == v, (k, f[k], v))
# The same bytes under a wrong key (or SPI) must not verify.
for line in run("parse", reqs, key=WRONG):
    check("wrong key", fields(line)[1]["auth"] == "auth_failed", line)
for line in run("parse", reqs[:20], spi=SPI + 1):
    check("wrong spi", fields(line)[1]["auth"] == "auth_spi_mismatch", line)

# Replies from scapy: TNC before or after the authenticator, UDP tunnel reply,
# revocation support.
reps, want = [], []
for i in range(200):
    code = rng.choice([0, 1, 128, 129, 131, 133, 134, 137, 138, 139, 142])
    ident = rng.getrandbits(64)
    home, ha = addr(), addr()
    utrp = (0, rng.choice([0, 64]), rng.randrange(2), 0, rng.randrange(65536))
    exts = ext(44, struct.pack("!BBHH", utrp[0], utrp[1], utrp[2] << 15, utrp[4]))
    rev = (rng.randrange(2), 0, rng.getrandbits(32))
    exts += ext(137, struct.pack("!HI", rev[0] << 15, rev[2]))
    where = i % 4  # 0 before, 1 after, 2 sub-type 1 before, 3 none
    if where == 0:
        exts += ext(149, bytes([0, rng.randrange(256)]))  # reserved: ignored
    if where == 2:
        exts += ext(149, bytes([1, 0]))
    p = MobileIP(type=3) / MobileIPRRP(code=code, lifetime=rng.randrange(65536), homeaddr=home,
                                       haaddr=ha, id=ident) / Raw(exts)
    raw = mn_ha_sign(bytes(p))
    if where == 1:
        raw += ext(149, bytes([0, 0]))
    reps.append(raw.hex())
    want.append(dict(code=str(code), lifetime=str(p[MobileIPRRP].lifetime), home=home, ha=ha,
                     id="%016x" % ident, utrp=",".join(map(str, utrp)),
                     rev=",".join(map(str, rev)), auth="ok",
                     tnc="1" if where in (0, 1) else "0",
                     tnc_covered="1" if where == 0 else "0"))
for line, w in zip(run("parse", reps), want):
    kind, f = fields(line)
    check("rrp kind", kind == "rep", line)
    for k, v in w.items():
        check("rrp " + k, f[k] == v, (k, f[k], v))

# Bad inputs built with scapy: unknown non-skippable, truncated inside an extension.
base = bytes(MobileIP(type=1) / MobileIPRRQ(homeaddr="10.0.0.1", haaddr="10.0.0.2"))
bad = [(base + ext(100, b"xx"), "err unknown_non_skippable"),
       (base + ext(131, b"nai")[:-1], "err ext_truncated"),
       (base[:23], "err truncated"),
       (base + ext(250, b"skip") + ext(131, b"n"), None)]
out = run("parse", [b.hex() for b, _ in bad])
for (b, w), line in zip(bad, out):
    if w is None:
        check("skippable", line.startswith("ok req") and "skipped=1" in line, line)
    else:
        check("bad input", line == w, (line, w))

# ---- our builder -> scapy, Python's hmac and tshark ----
specs, exp = [], []
for i in range(200):
    is_req = i % 2 == 0
    ident = rng.getrandbits(64)
    home, ha, coa = addr(), addr(), addr()
    lifetime = rng.randrange(65536)
    tnc = ["before", "after", "sub:1", ""][(i // 2) % 4] if not is_req else ""
    if is_req:
        flags = rng.randrange(256)
        spec = "kind=req flags=%d lifetime=%d home=%s ha=%s coa=%s id=%016x nai=mn%d@ex.org " \
               "utrq=0,%d,%d,%d" % (flags, lifetime, home, ha, coa, ident, i, rng.randrange(2),
                                    rng.randrange(2), rng.choice([4, 47, 55]))
    else:
        code = rng.choice([0, 1, 129, 133, 134, 137, 138, 142])
        spec = "kind=rep code=%d lifetime=%d home=%s ha=%s id=%016x utrp=%d,%d,%d" % (
            code, lifetime, home, ha, ident, rng.choice([0, 64]), rng.randrange(2),
            rng.randrange(65536))
        if tnc:
            spec += " tnc=" + tnc
    specs.append(spec)
    exp.append((is_req, ident, home, ha, coa, lifetime, tnc,
                flags if is_req else code))
built = run("build", specs)
pkts = []
for b, (is_req, ident, home, ha, coa, lifetime, tnc, fc) in zip(built, exp):
    raw = bytes.fromhex(b)
    m = MobileIP(raw)
    if is_req:
        q = m[MobileIPRRQ]
        check("scapy rrq", (q.flags, q.lifetime, q.homeaddr, q.haaddr, q.coaddr, q.id) ==
              (fc, lifetime, home, ha, coa, ident), q.summary())
        first = 24
    else:
        q = m[MobileIPRRP]
        check("scapy rrp", (q.code, q.lifetime, q.homeaddr, q.haaddr, q.id) ==
              (fc, lifetime, home, ha, ident), q.summary())
        first = 20
    exts = walk(raw, first)
    auth = [e for e in exts if e[0] == 32]
    check("one auth", len(auth) == 1)
    _, off, data = auth[0]
    check("auth spi", data[:4] == struct.pack("!I", SPI))
    mac = hmac.new(KEY, raw[:off + 6], hashlib.md5).digest()
    check("hmac verifies", hmac.compare_digest(mac, data[4:]), b)
    tncs = [e for e in exts if e[0] == 149]
    if tnc in ("before", "after"):
        check("tnc bytes", len(tncs) == 1 and tncs[0][2] == b"\x00\x00")
        check("tnc place", (tncs[0][1] < off) == (tnc == "before"))
    pkts.append(IP(src=addr(), dst=addr()) / UDP(sport=434 if not is_req else 40000 + len(pkts),
                                                 dport=434) / Raw(raw))

# tshark decodes every message, finds nothing malformed, and shows the TNC.
with tempfile.TemporaryDirectory() as d:
    pcap = os.path.join(d, "mip.pcap")
    wrpcap(pcap, pkts)
    text = subprocess.run([TSHARK, "-r", pcap, "-V", "-O", "mip"], capture_output=True,
                          text=True, check=True).stdout
    check("tshark no malformed", "Malformed" not in text and "malformed" not in text)
    check("tshark no expert", "Expert Info" not in text)
    check("tshark tnc", "Trusted Networks Configured" in text or "(149)" in text)
    check("tshark auth", "Mobile-Home Authentication Extension" in text)
    check("tshark utrq", "UDP Tunnel Request Extension" in text)
    check("tshark utrp", "UDP Tunnel Reply Extension" in text)
    rows = subprocess.run([TSHARK, "-r", pcap, "-T", "fields", "-E", "separator=;",
                           "-e", "mip.type", "-e", "mip.ident", "-e", "mip.auth.spi",
                           "-e", "mip.ext.type", "-e", "_ws.expert", "-e", "_ws.malformed"],
                          capture_output=True, text=True, check=True).stdout.splitlines()
    check("tshark rows", len(rows) == len(pkts), len(rows))
    for row, (is_req, _, _, _, _, _, tnc, _) in zip(rows, exp):
        typ, _ident, spi, types, expert, malformed = row.split(";")
        check("tshark type", typ == ("1" if is_req else "3"), row)
        check("tshark spi", int(spi, 0) == SPI, row)
        check("tshark clean", expert == "" and malformed == "", row)
        ext_types = types.split(",")
        check("tshark ext 32", "32" in ext_types, row)
        if tnc in ("before", "after", "sub:1"):
            check("tshark ext 149", "149" in ext_types, row)
    # And our own built replies parse back with the TNC where we put it.
    for line, (is_req, *_rest) in zip(run("parse", built), exp):
        tnc = _rest[5]
        kind, f = fields(line)
        check("self auth", f["auth"] == "ok", line)
        if not is_req:
            check("self tnc", f["tnc"] == ("1" if tnc in ("before", "after") else "0"), line)
            check("self tnc covered", f["tnc_covered"] == ("1" if tnc == "before" else "0"), line)

print("interop_mip_scapy: %d checks passed" % checked)
