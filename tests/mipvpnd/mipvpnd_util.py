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
