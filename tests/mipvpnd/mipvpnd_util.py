"""What the daemon's end-to-end tests share: the check counter and a
net_pcap port line for a mipvpnd configuration."""
import contextlib
import os
import shutil
import sys
import tempfile

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


def stop_daemon(proc, log=None):
    """SIGTERM a running mipvpnd, wait for it (bounded), print its output,
    check it exited 0; returns the output (from the file log when it
    writes one, else from its stdout pipe)."""
    import signal
    import subprocess
    proc.send_signal(signal.SIGTERM)
    try:
        out, _ = proc.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        sys.exit("FAIL mipvpnd did not stop on SIGTERM")
    if log:
        with open(log) as f:
            out = f.read()
    print(out)
    check("exit", proc.returncode == 0, "rc %d" % proc.returncode)
    return out


def conf_prefix(conf):
    """The EAL file prefix (--file-prefix=...) in the eal list of a mipvpnd
    configuration file, or None."""
    import re
    with open(conf) as f:
        m = re.search(r"--file-prefix=([^\"\s,;\]]+)", f.read())
    return m.group(1) if m else None


def conf_telemetry(conf):
    """Whether a mipvpnd configuration file leaves telemetry on (the default)."""
    import re
    with open(conf) as f:
        return re.search(r"(^|[\s;{])telemetry\s*=\s*false", f.read()) is None


def pcap_frames(path):
    """The number of records in a pcap file (0 when it is missing or unreadable)."""
    import struct
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError:
        return 0
    if len(data) < 24:
        return 0
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        end = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        end = ">"
    else:
        return 0
    n, off = 0, 24
    while off + 16 <= len(data):
        off += 16 + struct.unpack(end + "I", data[off + 8:off + 12])[0]
        n += 1
    return n


def conf_rx_frames(conf):
    """The frames that the net_pcap ports of a configuration will read: the
    records of every rx_pcap file it names."""
    import re
    with open(conf) as f:
        return sum(pcap_frames(p) for p in re.findall(r"rx_pcap=([^,\"]+)", f.read()))


def wait_line(proc, log, line, timeout=60):
    """Until `line` appears in the file log that proc writes; FAIL with the
    output when proc exits first or after timeout s."""
    import time
    end = time.time() + timeout
    while True:
        with open(log) as f:
            out = f.read()
        if line in out:
            return
        if proc.poll() is not None:
            sys.exit("FAIL mipvpnd exited %d before '%s':\n%s" % (proc.returncode, line, out))
        if time.time() > end:
            proc.kill()
            proc.wait()
            sys.exit("FAIL no '%s' from mipvpnd in %d s:\n%s" % (line, timeout, out))
        time.sleep(0.05)


def settle_key(st):
    """What changes while the daemon still works on what it was given: the
    ports' received and punted frames and the control thread's counters."""
    ports = st.get("ports", {})
    return (ports.get("rx"), ports.get("punted"), tuple(sorted(st.get("control", {}).items())))


def wait_settled(prefix, proc, log, frames=None, strict=True, quiet=0.5, timeout=60):
    """Poll /mipvpn/stats until ports.rx has reached `frames` (when given)
    and nothing in settle_key() changed for `quiet` s. When the count is
    not reached (strict False: a count derived from the input files), a
    daemon quiet for 5 s is taken as done. Returns the last stats."""
    import time
    end = time.time() + timeout
    last, since, st = None, time.time(), None
    while True:
        if proc.poll() is not None:
            with open(log) as f:
                sys.exit("FAIL mipvpnd exited %d while running:\n%s" % (proc.returncode, f.read()))
        try:
            st = telemetry(prefix, "/mipvpn/stats")
        except (OSError, ValueError, KeyError):
            st = None
        now = time.time()
        if isinstance(st, dict):
            key = settle_key(st)
            if key != last:
                last, since = key, now
            reached = frames is None or (key[0] or 0) >= frames
            if now - since >= quiet and (reached or (not strict and now - since >= 5)):
                if not reached:
                    print("note: mipvpnd took %s of %d frames" % (key[0], frames))
                return st
        if now > end:
            proc.kill()
            proc.wait()
            with open(log) as f:
                sys.exit("FAIL mipvpnd did not settle (%s frames wanted): %s\n%s" % (frames, st, f.read()))
        time.sleep(0.1)


def run_daemon(mipvpnd, conf, seconds=3, frames=None):
    """Run mipvpnd -c conf on net_pcap ports that read their files once,
    until it has taken them and answered, then stop it (SIGTERM, exit 0);
    returns its whole output. It runs until its "running" line (up to 60 s:
    EAL start-up is slow under ASan), then until telemetry shows ports.rx at
    `frames` (default: the records of the rx_pcap files the configuration
    names) and the rx, punt and control counters still for 0.5 s. With
    `telemetry = false` in conf it runs `seconds` after the running line."""
    import subprocess
    import time
    log = conf + ".log"
    with open(log, "w") as logf:
        proc = subprocess.Popen([mipvpnd, "-c", conf, "--idle-sleep-us", "200"],
                                stdout=logf, stderr=subprocess.STDOUT, text=True)
    prefix = conf_prefix(conf)
    try:
        wait_line(proc, log, "mipvpnd: running")
        if prefix and conf_telemetry(conf):
            strict = frames is not None
            wait_settled(prefix, proc, log, frames if strict else conf_rx_frames(conf), strict)
        else:
            time.sleep(seconds)
        return stop_daemon(proc, log)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if prefix:
            remove_eal_dir(prefix)


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


def signed_rrq_ext(home, ha, coa, ident, spi, key, flags=0, exts=b"", nai=b"mn1@example.org", lifetime=600):
    """signed_rrq with the request's flag bits (RFC 5944 3.3: S B D M G r T x)
    and extensions placed after the NAI, before the MN-HA authenticator, so
    that it covers them (e.g. the UDP Tunnel Request, udp_tunnel_req())."""
    import hashlib
    import hmac
    import struct
    from scapy.all import Raw
    from scapy.layers.mobileip import MobileIP, MobileIPRRQ
    p = MobileIP(type=1) / MobileIPRRQ(flags=flags, lifetime=lifetime, homeaddr=home, haaddr=ha,
                                       coaddr=coa, id=ident) / Raw(mip_ext(131, nai) + exts)
    head = bytes(p) + bytes([32, 20]) + struct.pack("!I", spi)
    return head + hmac.new(key, head, hashlib.md5).digest()


def udp_tunnel_req(force=False):
    """RFC 3519 3.1 UDP Tunnel Request (144, short format, length 6):
    sub-type 0, reserved, F (force) flag, encapsulation 4 (IP-in-IP), reserved."""
    return bytes([144, 6, 0, 0, 0x80 if force else 0, 4, 0, 0])


def mip_exts(body, fixed):
    """The (type, data) of the extensions after a Mobile IP message's fixed
    part (24 bytes for a request, 20 for a reply), in order (RFC 5944 1.8)."""
    out = []
    rest = body[fixed:]
    while len(rest) >= 2:
        out.append((rest[0], rest[2:2 + rest[1]]))
        rest = rest[2 + rest[1]:]
    return out


# --- a daemon fed live: net_pcap ports that read a veth inside a network
# namespace (rx_iface_in), so that the test decides when each packet
# arrives (a registration before the traffic that needs its binding), and
# write pcap files as in pcap_port(). Telemetry (DPDK's socket) says when
# the daemon has taken what was sent.

class LiveNet:
    """A network namespace with one veth pair per port name (the N-th
    name: mdN and msN): the daemon reads mdN through net_pcap
    (rx_iface_in: what arrives on it), the test writes msN with scapy's
    sendp(); IPv6 is off on both, so nothing else arrives. The calling thread enters the
    namespace (the daemon started from it runs there too); close() deletes
    it with its links."""

    def __init__(self, names):
        import os
        import signal
        import subprocess
        # A test ended by meson's timeout (SIGTERM) still runs its finally
        # blocks: the daemon is killed and the namespace deleted.
        signal.signal(signal.SIGTERM, lambda *_: sys.exit("FAIL terminated"))
        self.ns = "mvg%d" % os.getpid()
        self.names = list(names)
        subprocess.run(["ip", "netns", "add", self.ns], check=True)
        try:
            self._setup()
        except BaseException:
            # Whatever failed (an ip command, setns, sys.exit): no namespace left behind.
            self.close()
            raise

    def _setup(self):
        """The veth pairs, the calling thread into the namespace, the links up."""
        import ctypes
        import os
        import subprocess
        for i, _ in enumerate(self.names):
            inner, outer = "md%d" % i, "ms%d" % i
            subprocess.run(["ip", "-n", self.ns, "link", "add", inner, "type", "veth", "peer", "name", outer],
                           check=True)
        libc = ctypes.CDLL(None, use_errno=True)
        fd = os.open("/run/netns/" + self.ns, os.O_RDONLY)
        rc = libc.setns(fd, 0x40000000)  # CLONE_NEWNET
        os.close(fd)
        if rc != 0:
            sys.exit("FAIL setns: errno %d" % ctypes.get_errno())
        for i, _ in enumerate(self.names):
            for dev in ("md%d" % i, "ms%d" % i):
                # No IPv6 (router solicitations, MLD): the ports see only what the test sends.
                try:
                    with open("/proc/sys/net/ipv6/conf/%s/disable_ipv6" % dev, "w") as f:
                        f.write("1")
                except OSError:
                    pass
                subprocess.run(["ip", "link", "set", dev, "up"], check=True)

    def port(self, d, name, n, addr, mac, internal):
        """A mipvpnd port that reads the veth of `name` and writes
        NAME_w0.pcap (worker) and NAME_ctl.pcap (control thread) in d."""
        i = self.names.index(name)
        dev = "net_pcap%d,rx_iface_in=md%d,tx_pcap=%s/%s_w0.pcap,tx_pcap=%s/%s_ctl.pcap" % (
            n, i, d, name, d, name)
        return '{ name = "%s"; device = "%s"; address = "%s"; mac = "%s"; internal = %s; }' % (
            name, dev, addr, mac, "true" if internal else "false")

    def send(self, name, frames):
        """Frames (scapy Ether packets) into the port `name`, in order."""
        from scapy.all import sendp
        sendp(frames, iface="ms%d" % self.names.index(name), verbose=False)

    def close(self):
        import subprocess
        subprocess.run(["ip", "netns", "del", self.ns], check=False)


@contextlib.contextmanager
def live_net_dir(prefix, ports):
    """A scratch directory (mkdtemp with prefix) and a LiveNet of ports for
    one test run; the namespace is deleted afterwards and the directory
    removed unless KEEP is set in the environment."""
    d = tempfile.mkdtemp(prefix=prefix)
    net = LiveNet(ports)
    try:
        yield net, d
    finally:
        net.close()
        if not os.environ.get("KEEP"):
            shutil.rmtree(d, ignore_errors=True)


def eal_dir(prefix):
    """The EAL runtime directory of a file prefix (DPDK's rte_eal_get_runtime_dir)."""
    import os
    base = "/var/run/dpdk" if os.getuid() == 0 else (os.environ.get("XDG_RUNTIME_DIR") or "/tmp") + "/dpdk"
    return "%s/%s" % (base, prefix)


def remove_eal_dir(prefix):
    """Remove what an exited daemon's EAL left under its file prefix."""
    import shutil
    shutil.rmtree(eal_dir(prefix), ignore_errors=True)


def telemetry(prefix, cmd):
    """One DPDK telemetry command (v2 socket of the EAL file prefix) -> its value."""
    import json
    import socket
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    try:
        s.settimeout(5)
        s.connect(eal_dir(prefix) + "/dpdk_telemetry.v2")
        s.recv(16384)  # the greeting
        s.send(cmd.encode())
        return json.loads(s.recv(1 << 20).decode())[cmd.split(",")[0]]
    finally:
        s.close()


class LiveDaemon:
    """mipvpnd -c conf running until stop(); the EAL file prefix of the
    configuration reaches its telemetry. Its output goes to a file (log),
    not a pipe: a daemon that logs a lot never blocks on it."""

    def __init__(self, mipvpnd, conf, prefix, log=None):
        import subprocess
        import time
        self.prefix = prefix
        self.log = log or conf + ".log"
        self.logf = open(self.log, "w")
        self.proc = subprocess.Popen([mipvpnd, "-c", conf, "--idle-sleep-us", "100"],
                                     stdout=self.logf, stderr=subprocess.STDOUT, text=True)
        end = time.time() + 60  # EAL start-up under ASan on a loaded machine
        while time.time() < end:
            if self.proc.poll() is not None:
                sys.exit("FAIL mipvpnd exited %d at start:\n%s" % (self.proc.returncode, self.output()))
            try:
                if isinstance(self.stats(), dict):  # null until the runtime runs
                    return
            except (OSError, ValueError, KeyError):
                pass
            time.sleep(0.05)
        self.kill()
        sys.exit("FAIL mipvpnd offers no telemetry:\n%s" % self.output())

    def output(self):
        with open(self.log) as f:
            return f.read()

    def stats(self):
        return telemetry(self.prefix, "/mipvpn/stats")

    def drops(self):
        return telemetry(self.prefix, "/mipvpn/drops")

    def wait(self, what, pred, timeout=10):
        """Poll /mipvpn/stats until pred(stats) holds; FAIL with `what` after timeout s."""
        import time
        end = time.time() + timeout
        while True:
            st = self.stats()
            if pred(st):
                return st
            if time.time() > end:
                self.kill()
                sys.exit("FAIL waiting for %s: %s\n%s" % (what, st, self.output()[-5000:]))
            time.sleep(0.05)

    def wait_rx(self, n, timeout=10):
        """Until the ports took n frames in all and the control thread has
        handled every punt (nothing left in the punt rings)."""
        self.wait("%d frames received" % n, lambda st: st["ports"]["rx"] >= n, timeout)
        return self.settle(timeout)

    def settle(self, timeout=10):
        """Until two /mipvpn/stats reads 0.2 s apart show the same ports.rx,
        ports.punted and control counters (the control thread has handled
        what was punted); returns the last stats."""
        import time
        end = time.time() + timeout
        prev = self.stats()
        while True:
            time.sleep(0.2)
            st = self.stats()
            if settle_key(st) == settle_key(prev):
                return st
            if time.time() > end:
                self.kill()
                sys.exit("FAIL mipvpnd did not settle: %s\n%s" % (st, self.output()[-5000:]))
            prev = st

    def stop(self, show=60):
        """SIGTERM, wait (bounded), print the last `show` lines of its
        output, check it exited 0; returns the whole output."""
        import signal
        import subprocess
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.kill()
            sys.exit("FAIL mipvpnd did not stop on SIGTERM")
        self.logf.close()
        remove_eal_dir(self.prefix)
        out = self.output()
        print("\n".join(out.splitlines()[-show:]))
        check("exit", self.proc.returncode == 0, "rc %d" % self.proc.returncode)
        return out

    def kill(self):
        """End it if it still runs (a test that failed half-way)."""
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        remove_eal_dir(self.prefix)


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


def user_datagram(src, dst, i, ttl=20, tag=b"user", id_base=0):
    """The golden tests' user traffic: UDP 33434 -> 34500 (ports no tshark
    dissector claims), IP id id_base + i, payload "TAG i"."""
    from scapy.all import IP, UDP, Raw
    return IP(src=src, dst=dst, ttl=ttl, id=(id_base + i) & 0xffff) / UDP(sport=33434, dport=34500) / \
        Raw(tag + b" %d" % i)


def minus_ttl(p):
    """The bytes of IP datagram p as a router forwards it: TTL - 1, header
    checksum recomputed."""
    from scapy.all import IP
    w = p.copy()
    w.ttl -= 1
    del w.chksum
    return bytes(IP(bytes(w)))


def good_checksum(ip):
    """The IPv4 header checksum as sent equals the one scapy computes."""
    from scapy.all import IP
    w = ip.copy()
    del w.chksum
    return IP(bytes(w)).chksum == ip.chksum
