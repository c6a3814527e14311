#!/usr/bin/env python3
"""A user-space Ethernet switch that holds every frame for the one-way delay of its port pair.

The multi-host test gives each emulated host (a network namespace) one TAP device; this process owns
the other end of every TAP, so every frame any host sends -- ARP, TCP handshakes, MQTT, HTTP -- passes
through here and leaves on the destination's port `delayMs[src][dst]` milliseconds after it arrived.
The kernel here has no netem qdisc, so the delay is added in user space; see README.md for how
faithful that is (a frame is never early; it can be late by this process's scheduling lag, which is
measured and reported by the `stats` command).

Usage: python3 switch.py CONFIG.json, where CONFIG is {"ports": [tap names], "delayMs": [[one-way ms]],
"namespaces": [names], "runDir": path}. It creates the TAP devices (not persistent: they vanish when
this process exits, wherever they are), prints `ready` and then forwards until stdin closes or
SIGTERM/SIGINT. A `stats` line on stdin prints one JSON line of counters. Standard library only.

It is also the run's watchdog: stdin closes when the test process ends, however it ends (a SIGKILLed
test runner runs no cleanup of its own), and then the switch kills whatever still runs in the run's
namespaces, deletes them and removes the run's directory. After a normal teardown there is nothing
left for it to do.
"""

import fcntl
import heapq
import json
import os
import select
import shutil
import signal
import struct
import subprocess
import sys
import time

# <linux/if_tun.h>: the ioctl that binds this file descriptor to a named TAP device.
TUNSETIFF = 0x400454CA
IFF_TAP = 0x0002
# No 4-byte packet-information header: each read/write is exactly one Ethernet frame.
IFF_NO_PI = 0x1000
# Larger than any frame a TAP with MTU 1500 (no offloads negotiated) can carry.
MAX_FRAME_BYTES = 65536
# Mid-range real-time priority (1-99): above every normal process, below the kernel's own threads.
REALTIME_PRIORITY = 50
# Lateness samples kept for the percentiles (about 1 MB of floats).
MAX_SAMPLES = 100_000


def open_tap(name):
    fd = os.open("/dev/net/tun", os.O_RDWR | os.O_NONBLOCK)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", name.encode(), IFF_TAP | IFF_NO_PI))
    return fd


def clean_up(config):
    """Kills what still runs in the run's namespaces, deletes them and the run's directory."""
    for ns in config.get("namespaces", []):
        pids = subprocess.run(["ip", "netns", "pids", ns], capture_output=True, text=True).stdout.split()
        for pid in pids:
            try:
                os.kill(int(pid), signal.SIGKILL)
            except (ProcessLookupError, ValueError):
                pass
        subprocess.run(["ip", "netns", "del", ns], capture_output=True)
    if config.get("runDir"):
        shutil.rmtree(config["runDir"], ignore_errors=True)


def percentile(sorted_values, q):
    if not sorted_values:
        return None
    return sorted_values[min(len(sorted_values) - 1, int(q * len(sorted_values)))]


def main(config):
    names = config["ports"]
    delay_s = [[ms / 1000.0 for ms in row] for row in config["delayMs"]]
    fds = [open_tap(name) for name in names]
    port_of_fd = {fd: i for i, fd in enumerate(fds)}
    mac_port = {}  # learned from source addresses, as a hardware switch does
    queue = []  # (due monotonic seconds, sequence, port, frame): a min-heap on the due time
    sequence = 0  # keeps frames of one pair in order when their due times tie
    stats = {"framesIn": 0, "framesOut": 0, "flooded": 0, "droppedLinkDown": 0, "droppedOther": 0}
    lateness_s = []
    stdin_fd = sys.stdin.fileno()
    os.set_blocking(stdin_fd, False)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    signal.signal(signal.SIGINT, lambda *_: sys.exit(0))
    # The switch is the wire: run it at real-time priority, so that frames leave on time however busy
    # the hosts' processes keep the CPUs (it sleeps in select, so it never holds a CPU for long).
    try:
        os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(REALTIME_PRIORITY))
        stats["scheduler"] = "SCHED_FIFO"
    except (AttributeError, PermissionError, OSError):
        stats["scheduler"] = "normal"
    print("ready", flush=True)

    def report():
        late = sorted(lateness_s)
        ms = lambda s: None if s is None else round(s * 1000, 3)
        print(json.dumps({**stats, "latenessMs": {"p50": ms(percentile(late, 0.5)), "p99": ms(percentile(late, 0.99)), "max": ms(late[-1] if late else None), "samples": len(late)}}), flush=True)

    pending_input = b""
    while True:
        timeout = max(0.0, queue[0][0] - time.monotonic()) if queue else None
        readable, _, _ = select.select(fds + [stdin_fd], [], [], timeout)
        arrived = time.monotonic()
        for fd in readable:
            if fd == stdin_fd:
                chunk = os.read(stdin_fd, 4096)
                if not chunk:
                    return  # the test is gone: stop, and the TAPs go with this process
                pending_input += chunk
                while b"\n" in pending_input:
                    line, pending_input = pending_input.split(b"\n", 1)
                    if line.strip() == b"stats":
                        report()
                continue
            src = port_of_fd[fd]
            while True:
                try:
                    frame = os.read(fd, MAX_FRAME_BYTES)
                except (BlockingIOError, OSError):
                    break
                stats["framesIn"] += 1
                if len(frame) < 14:
                    continue
                mac_port[frame[6:12]] = src
                dst = mac_port.get(frame[0:6])
                # Broadcast/multicast (first octet's low bit) and unknown destinations are flooded.
                if frame[0] & 1 or dst is None:
                    targets = [p for p in range(len(fds)) if p != src]
                    stats["flooded"] += 1
                elif dst == src:
                    continue
                else:
                    targets = [dst]
                for port in targets:
                    heapq.heappush(queue, (arrived + delay_s[src][port], sequence, port, frame))
                    sequence += 1
        now = time.monotonic()
        while queue and queue[0][0] <= now:
            due, _, port, frame = heapq.heappop(queue)
            try:
                os.write(fds[port], frame)
                stats["framesOut"] += 1
            except OSError as err:
                # EIO: the host set its link down (`ip link set ... down`): the cable is cut.
                stats["droppedLinkDown" if err.errno == 5 else "droppedOther"] += 1
                continue
            if len(lateness_s) < MAX_SAMPLES:
                lateness_s.append(time.monotonic() - due)
            now = time.monotonic()


if __name__ == "__main__":
    with open(sys.argv[1], encoding="utf-8") as config_file:
        run_config = json.load(config_file)
    try:
        main(run_config)
    finally:
        clean_up(run_config)
