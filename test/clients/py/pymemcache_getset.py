"""pymemcache tutorial basics: set/get with bytes and str values, set_many/
get_many and delete, with replies enabled so every outcome is observable.
Usage: pymemcache_getset.py PORT"""
from pymemcache.client.base import Client

from report import run


def main(argv):
    port = int(argv[0])
    c = Client(("127.0.0.1", port), connect_timeout=5, timeout=5, default_noreply=False)
    utf8 = Client(("127.0.0.1", port), connect_timeout=5, timeout=5, default_noreply=False,
                  encoding="utf-8")
    try:
        out = {}
        out["set_bytes"] = c.set("greeting", b"hello world", expire=60)
        out["get_bytes"] = c.get("greeting")
        # Without a serde pymemcache encodes str values and returns bytes.
        out["set_str"] = c.set("name", "plain text")
        out["get_str"] = c.get("name")
        out["set_utf8"] = utf8.set("unicode", "héllo wörld")
        out["get_utf8"] = utf8.get("unicode")
        binary = bytes(range(256)) + b"\r\nEND\r\n"
        out["set_binary"] = c.set("blob", binary)
        out["binary_roundtrip"] = c.get("blob") == binary
        out["set_empty"] = c.set("empty", b"")
        out["get_empty"] = c.get("empty")
        out["get_missing"] = c.get("no-such-key")
        out["set_many_failed"] = c.set_many({"k1": b"v1", "k2": b"v2", "k3": b"v3"})
        out["get_many"] = c.get_many(["k1", "k2", "k3", "no-such-key"])
        out["delete_existing"] = c.delete("k2")
        out["delete_missing"] = c.delete("k2")
        out["get_many_after_delete"] = c.get_many(["k1", "k2", "k3"])
        out["delete_many"] = c.delete_many(["k1", "k3"])
        out["get_many_after_delete_many"] = c.get_many(["k1", "k3"])
        return out
    finally:
        c.close()
        utf8.close()


run(main)
