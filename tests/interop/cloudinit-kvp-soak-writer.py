#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Publish events through cloud-init's own Hyper-V KVP handler, paced.

Usage: cloudinit-kvp-soak-writer.py POOL_FILE PREFIX N WINDOW

The real writer, as in cloudinit-kvp-writer.py: HyperVKvpReportingHandler
appends 2560-byte records under flock(LOCK_EX) from its background thread.
Event i is named "PREFIX/i" and described by desc(i), which
tests/test-kvp-soak.c rebuilds to check every record it sees. The soak's
host consumes events and sends one byte on stdin for each, so the pool
stays bounded: event i >= WINDOW waits for a byte first. Exits 0 once
every event is written, 3 when stdin ends too early.
"""
import os
import sys

from cloudinit.reporting import events, handlers


def desc(i):
    # Keep in step with soak_desc() in tests/test-kvp-soak.c.
    base = "%08x" % ((i * 2654435761) & 0xFFFFFFFF)
    n = 64 + (i * 37) % 700
    return "event %d " % i + (base * (n // 8 + 1))[:n]


def main():
    path, prefix = sys.argv[1], sys.argv[2]
    count, window = int(sys.argv[3]), int(sys.argv[4])
    handler = handlers.HyperVKvpReportingHandler(kvp_file_path=path)
    for i in range(count):
        if i >= window and os.read(0, 1) == b"":
            return 3
        handler.publish_event(
            events.ReportingEvent("start", "%s/%d" % (prefix, i), desc(i))
        )
    handler.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
