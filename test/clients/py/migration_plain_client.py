"""The tutorial's cluster migration, done two ways over the same old node:
pymemcache's FallbackClient over (an empty new node, the old node), and one
plain base.Client against a new node started with --warm-from the old one.
Every read must give the same answer; then a write and a delete made through
each. Usage: migration_plain_client.py PORT_FALLBACK_NEW PORT_WARMING PORT_OLD KEY..."""
from pymemcache.client.base import Client
from pymemcache.fallback import FallbackClient

from report import run


def client(port):
    return Client(("127.0.0.1", port), connect_timeout=5, timeout=5, default_noreply=False)


def main(argv):
    fb_new, warming, old_port = int(argv[0]), int(argv[1]), int(argv[2])
    keys = argv[3:]
    fb = FallbackClient([client(fb_new), client(old_port)])
    plain = client(warming)
    try:
        out = {"differ": [], "plain_hits": 0, "fallback_hits": 0}
        for k in keys:
            a, b = fb.get(k), plain.get(k)
            if a is not None:
                out["fallback_hits"] += 1
            if b is not None:
                out["plain_hits"] += 1
            if a != b:
                out["differ"].append(k)
        many_fb = fb.get_many(keys[:50])
        many_plain = plain.get_many(keys[:50])
        out["get_many_same"] = many_fb == many_plain and len(many_plain) == 50
        # A write made during the migration is read back by both.
        fb.set("written-now", b"new value")
        plain.set("written-now", b"new value")
        out["fallback_written"] = fb.get("written-now")
        out["plain_written"] = plain.get("written-now")
        # A delete: FallbackClient deletes on the new node only, so the old
        # value comes back from the old node; the warming node keeps it deleted.
        gone = keys[-1]
        fb.delete(gone)
        plain.delete(gone)
        out["fallback_after_delete"] = fb.get(gone)
        out["plain_after_delete"] = plain.get(gone)
        return out
    finally:
        fb.close()
        plain.close()


run(main)
