"""What the daemon's end-to-end tests share: the check counter and a
net_pcap port line for a mipvpnd configuration."""
import sys

checked = 0


def check(name, cond, info=""):
    """Count a check; end the test with FAIL and the details when cond is false."""
    global checked
    if not cond:
        sys.exit("FAIL %s %s" % (name, info))
    checked += 1


def pcap_port(d, name, n, addr, mac, internal):
    """A port on net_pcap files in d: NAME_in.pcap is read; each TX queue
    writes its own file: NAME_w0.pcap (the worker), NAME_ctl.pcap (the
    control thread)."""
    dev = "net_pcap%d,rx_pcap=%s/%s_in.pcap,tx_pcap=%s/%s_w0.pcap,tx_pcap=%s/%s_ctl.pcap" % (
        n, d, name, d, name, d, name)
    return '{ name = "%s"; device = "%s"; address = "%s"; mac = "%s"; internal = %s; }' % (
        name, dev, addr, mac, "true" if internal else "false")


def stop_daemon(proc):
    """SIGTERM a running mipvpnd, wait for it (bounded), print its output,
    check it exited 0; returns the output."""
    import signal
    import subprocess
    proc.send_signal(signal.SIGTERM)
    try:
        out, _ = proc.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        sys.exit("FAIL mipvpnd did not stop on SIGTERM")
    print(out)
    check("exit", proc.returncode == 0, "rc %d" % proc.returncode)
    return out


def run_daemon(mipvpnd, conf, seconds=3):
    """Run mipvpnd -c conf for a few seconds (net_pcap ports read their
    files once; the control thread answers within a tick), then stop it."""
    import subprocess
    import time
    proc = subprocess.Popen([mipvpnd, "-c", conf, "--idle-sleep-us", "200"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    time.sleep(seconds)
    return stop_daemon(proc)


def mip_ext(t, data):
    """A Mobile IP extension: type, length, data (RFC 5944 1.9)."""
    return bytes([t, len(data)]) + data


def signed_rrq(home, ha, coa, ident, spi, key, nai=b"mn1@example.org", lifetime=600):
    """A Registration Request (scapy) with an NAI (RFC 2794) and the MN-HA
    authenticator, HMAC-MD5 over the message up to the SPI (RFC 5944 3.5.1)."""
    import hashlib
    import hmac
    import struct
    from scapy.all import Raw
    from scapy.layers.mobileip import MobileIP, MobileIPRRQ
    p = MobileIP(type=1) / MobileIPRRQ(flags=0, lifetime=lifetime, homeaddr=home, haaddr=ha,
                                       coaddr=coa, id=ident) / Raw(mip_ext(131, nai))
    head = bytes(p) + bytes([32, 20]) + struct.pack("!I", spi)
    return head + hmac.new(key, head, hashlib.md5).digest()


def ntp_now():
    """The current time as a 64-bit NTP timestamp (RFC 5944 5.7.1 identification)."""
    import time
    return (int(time.time()) + 2208988800) << 32


def signed_rrq_flags(home, ha, coa, ident, spi, key, flags, nai=b"mn1@example.org", lifetime=600, exts=b""):
    """signed_rrq with the flags octet given (RFC 5944 3.3: S 0x80, B 0x40,
    D 0x20 co-located care-of address, M, G, r, T 0x02 reverse tunnel, x)
    and more extensions (bytes, e.g. mip_ext(...)) after the NAI, covered
    by the authenticator."""
    import hashlib
    import hmac
    import struct
    from scapy.all import Raw
    from scapy.layers.mobileip import MobileIP, MobileIPRRQ
    p = MobileIP(type=1) / MobileIPRRQ(flags=flags, lifetime=lifetime, homeaddr=home, haaddr=ha,
                                       coaddr=coa, id=ident) / Raw(mip_ext(131, nai) + exts)
    head = bytes(p) + bytes([32, 20]) + struct.pack("!I", spi)
    return head + hmac.new(key, head, hashlib.md5).digest()


def rrp_parse(body, spi, key):
    """A Registration Reply (RFC 5944 3.4) as a dict: code, lifetime, home,
    ha, id, exts (list of (type, data)), auth_ok (the MN-HA authenticator,
    HMAC-MD5 with spi/key, is present, last, and right); None when body is
    not a reply."""
    import hashlib
    import hmac
    import socket
    import struct
    if len(body) < 20 or body[0] != 3:
        return None
    r = {"code": body[1], "lifetime": struct.unpack("!H", body[2:4])[0],
         "home": socket.inet_ntoa(body[4:8]), "ha": socket.inet_ntoa(body[8:12]),
         "id": struct.unpack("!Q", body[12:20])[0], "exts": [], "auth_ok": False}
    off = 20
    while off + 2 <= len(body):
        t, n = body[off], body[off + 1]
        data = body[off + 2:off + 2 + n]
        r["exts"].append((t, data))
        if t == 32 and n == 20 and off + 22 == len(body):
            want = hmac.new(key, body[:off + 6], hashlib.md5).digest()
            r["auth_ok"] = struct.unpack("!I", data[:4])[0] == spi and hmac.compare_digest(want, data[4:])
        off += 2 + n
    return r
