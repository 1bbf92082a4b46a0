"""pymemcache's default client sends `noreply` on every write
(default_noreply=True): the writes must take effect although the server sends
nothing back, and the connection must stay in step for the next reply.
Usage: pymemcache_noreply.py PORT"""
from pymemcache.client.base import Client

from report import run


def main(argv):
    port = int(argv[0])
    c = Client(("127.0.0.1", port), connect_timeout=5, timeout=5)
    try:
        out = {}
        # With noreply the client cannot know the outcome and reports True.
        out["set"] = c.set("nr", b"one")
        out["add_existing"] = c.add("nr", b"never")
        out["replace"] = c.replace("nr", b"two")
        out["append"] = c.append("nr", b"-tail")
        out["prepend"] = c.prepend("nr", b"head-")
        # Reads on the same connection come after the writes, so they see them.
        out["get_after_writes"] = c.get("nr")
        out["add_new"] = c.add("nr2", b"added")
        out["replace_missing"] = c.replace("nr3", b"nope")
        out["get_many"] = c.get_many(["nr2", "nr3"])
        out["set_many_failed"] = c.set_many({"m1": b"a", "m2": b"b"})
        c.set("ctr", b"5")
        out["incr_noreply"] = c.incr("ctr", 3, noreply=True)
        out["decr_noreply"] = c.decr("ctr", 1, noreply=True)
        out["get_ctr"] = c.get("ctr")
        out["delete"] = c.delete("m1")
        out["touch"] = c.touch("m2", 60)
        out["get_many_after"] = c.get_many(["m1", "m2"])
        # A long noreply burst followed by one read: nothing may be left queued.
        for i in range(200):
            c.set("burst%d" % i, b"x" * i)
        out["burst_last"] = c.get("burst199") == b"x" * 199
        out["burst_count"] = len(c.get_many(["burst%d" % i for i in range(200)]))
        return out
    finally:
        c.close()


run(main)
