"""Keys set with expire=2 are gone once the server clock has passed that
time. The clock is moved with wasmcached's `debugtime 3` command, or by
really waiting when the server has no such command (memcached).
Usage: pymemcache_expiry.py PORT debugtime|sleep"""
import time

from pymemcache.client.base import Client

from report import raw_command, run


def main(argv):
    port, mode = int(argv[0]), argv[1]
    c = Client(("127.0.0.1", port), connect_timeout=5, timeout=5, default_noreply=False)
    try:
        out = {}
        out["set_short"] = c.set("short-lived", b"soon gone", expire=2)
        out["set_long"] = c.set("long-lived", b"stays", expire=600)
        out["set_forever"] = c.set("no-expiry", b"stays too")
        out["touch_to_short"] = c.set("touched", b"t", expire=600) and c.touch("touched", 2)
        out["before"] = c.get_many(["short-lived", "long-lived", "no-expiry", "touched"])
        if mode == "debugtime":
            out["advance"] = raw_command(port, b"debugtime 3\r\n")
        elif mode == "sleep":
            # memcached's clock ticks once a second: 3 s past a 2 s expiry is enough.
            time.sleep(3.2)
            out["advance"] = b"OK\r\n"
        else:
            raise ValueError("mode must be debugtime or sleep, not %r" % mode)
        out["after"] = c.get_many(["short-lived", "long-lived", "no-expiry", "touched"])
        out["get_short_after"] = c.get("short-lived")
        out["add_over_expired"] = c.add("short-lived", b"new life", expire=60)
        out["get_readded"] = c.get("short-lived")
        return out
    finally:
        c.close()


run(main)
