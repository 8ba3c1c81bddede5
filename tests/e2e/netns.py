# SPDX-License-Identifier: BSD-3-Clause
"""Network namespaces joined by veth pairs, for the end-to-end tests.

A Topology owns namespaces named PREFIX-NAME (unique per test run) and
removes them all in close(), whatever state they are in. Commands run in a
namespace through `ip netns exec`; sockets are opened in one with
Topology.enter(name) (setns(2) on this thread, back to the original
namespace on leaving), so one Python process can play several hosts.
"""
import contextlib
import ctypes
import os
import subprocess
import sys

CLONE_NEWNET = 0x40000000
_libc = ctypes.CDLL(None, use_errno=True)


def _setns(fd):
    if _libc.setns(fd, CLONE_NEWNET) != 0:
        e = ctypes.get_errno()
        raise OSError(e, "setns: " + os.strerror(e))


class Topology:
    def __init__(self, prefix):
        self.prefix = prefix
        self.names = []
        self._home = os.open("/proc/self/ns/net", os.O_RDONLY)

    def ns(self, name):
        """The system-wide name of namespace `name`."""
        return "%s-%s" % (self.prefix, name)

    def add(self, name):
        """A new namespace with lo up and IPv6 off (no router or neighbour
        solicitations on the test links: every frame is one the test sent)."""
        run(["ip", "netns", "add", self.ns(name)])
        self.names.append(name)
        for k in ["all", "default"]:
            self.sh(name, ["sysctl", "-q", "-w", "net.ipv6.conf.%s.disable_ipv6=1" % k])
        self.sh(name, ["ip", "link", "set", "lo", "up"])

    def link(self, a, if_a, mac_a, b, if_b, mac_b):
        """A veth pair: if_a (MAC mac_a) in namespace a, if_b in b; both up."""
        run(["ip", "-n", self.ns(a), "link", "add", if_a, "address", mac_a, "type", "veth",
             "peer", "name", if_b, "address", mac_b, "netns", self.ns(b)])
        self.sh(a, ["ip", "link", "set", if_a, "up"])
        self.sh(b, ["ip", "link", "set", if_b, "up"])

    def host(self, name, ifname, prefix, gateway=None):
        """Kernel IP on ifname (kernel ARP, ping, sockets). TX checksum
        offload off: a veth would otherwise hand half-done UDP checksums
        to the af_packet sockets of the DPDK processes across the link."""
        self.sh(name, ["ip", "addr", "add", prefix, "dev", ifname])
        self.sh(name, ["ethtool", "-K", ifname, "tx", "off"])
        if gateway:
            self.sh(name, ["ip", "route", "add", "default", "via", gateway])

    def sh(self, name, cmd, check=True, timeout=30):
        """Run cmd in namespace name; its CompletedProcess (text)."""
        return run(["ip", "netns", "exec", self.ns(name)] + cmd, check=check, timeout=timeout)

    def popen(self, name, cmd, log):
        """Start cmd in namespace name, stdout and stderr to the file log,
        in a session of its own: a signal to the test's process group
        (meson's timeout) does not reach it; the test ends it."""
        return subprocess.Popen(["ip", "netns", "exec", self.ns(name)] + cmd, stdout=log,
                                stderr=subprocess.STDOUT, text=True, start_new_session=True)

    @contextlib.contextmanager
    def enter(self, name):
        """This thread in namespace name for the with-block: sockets opened
        inside stay in it after the block."""
        fd = os.open("/run/netns/" + self.ns(name), os.O_RDONLY)
        try:
            _setns(fd)
            yield
        finally:
            if self._home is not None:  # None: closed (a timeout's cleanup)
                _setns(self._home)
            os.close(fd)

    def close(self):
        """Delete every namespace; again is harmless."""
        for name in reversed(self.names):
            subprocess.run(["ip", "netns", "del", self.ns(name)], capture_output=True)
        self.names = []
        if self._home is not None:
            os.close(self._home)
            self._home = None


def run(cmd, check=True, timeout=30):
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    if check and r.returncode != 0:
        sys.exit("FAIL command %s: rc %d\n%s%s" % (" ".join(cmd), r.returncode, r.stdout, r.stderr))
    return r
