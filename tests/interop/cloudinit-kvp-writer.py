#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Publish N events through cloud-init's own Hyper-V KVP reporting handler.

Usage: cloudinit-kvp-writer.py POOL_FILE N

This is the real writer, not an imitation: cloudinit.reporting.handlers.
HyperVKvpReportingHandler appends 2560-byte records under flock(LOCK_EX)
from a background thread. Events are named "interop/<i>" so a reader can
check that each arrived exactly once. Exits 0 once every event is written.
"""
import sys

from cloudinit.reporting import events, handlers


def main():
    path, count = sys.argv[1], int(sys.argv[2])
    handler = handlers.HyperVKvpReportingHandler(kvp_file_path=path)
    for i in range(count):
        handler.publish_event(
            events.ReportingEvent("start", "interop/%d" % i, "event %d" % i)
        )
    handler.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
