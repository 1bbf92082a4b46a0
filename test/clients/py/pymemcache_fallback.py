"""FallbackClient over two servers, as used when migrating between cache
clusters: reads try the first server and fall through to the second on a
miss; writes go to the first server only. Direct clients check each server.
Usage: pymemcache_fallback.py PORT_NEW PORT_OLD"""
from pymemcache.client.base import Client
from pymemcache.fallback import FallbackClient

from report import run


def client(port):
    return Client(("127.0.0.1", port), connect_timeout=5, timeout=5, default_noreply=False)


def main(argv):
    new_port, old_port = int(argv[0]), int(argv[1])
    new, old = client(new_port), client(old_port)
    fb = FallbackClient([client(new_port), client(old_port)])
    try:
        out = {}
        old.set("only-old", b"from old")
        new.set("only-new", b"from new")
        old.set("both", b"old copy")
        new.set("both", b"new copy")
        out["get_only_old"] = fb.get("only-old")
        out["get_only_new"] = fb.get("only-new")
        out["get_both"] = fb.get("both")
        out["get_neither"] = fb.get("neither")
        out["get_many_only_old"] = fb.get_many(["only-old"])
        # FallbackClient writes with noreply; the following read on the same
        # connection guarantees the server has applied the write.
        fb.set("written", b"via fallback")
        out["get_written"] = fb.get("written")
        out["new_has_written"] = new.get("written")
        out["old_has_written"] = old.get("written")
        fb.delete("only-new")
        out["get_after_delete"] = fb.get("only-new")
        out["new_after_delete"] = new.get("only-new")
        return out
    finally:
        for c in (new, old, fb):
            c.close()


run(main)
