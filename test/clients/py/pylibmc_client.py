"""pylibmc (libmemcached) over the text or the binary protocol: the storage
commands, gets/cas, incr/decr, multi-get of values whose Python type is
carried in the item flags, touch, delete and flush_all. Over the binary
protocol libmemcached reports some statuses as exceptions where the text
protocol gives False; those are recorded by name. The raw flags the server
stored are read back over a plain socket so a flags bug is visible as such.
Usage: pylibmc_client.py PORT text|binary"""
import pylibmc

from report import run, raw_command


def raw_get_header(port, key):
    """The `VALUE key flags bytes` line memcached sends for key, or the reply."""
    return raw_command(port, b"get " + key.encode() + b"\r\n")


def main(argv):
    port = int(argv[0])
    mc = pylibmc.Client(["127.0.0.1:%d" % port], binary=argv[1] == "binary",
                        behaviors={"cas": True, "connect_timeout": 5000,
                                   "receive_timeout": 5000000, "send_timeout": 5000000})
    try:
        out = {}
        out["flush_all"] = mc.flush_all()
        out["set"] = mc.set("k", "v1", time=60)
        out["get"] = mc.get("k")
        out["get_missing"] = mc.get("no-such-key")

        value, cas = mc.gets("k")
        out["gets_value"] = value
        out["gets_cas_is_int"] = isinstance(cas, int) and cas > 0
        out["cas_fresh"] = mc.cas("k", "v2", cas)
        out["cas_stale"] = error_or(lambda: mc.cas("k", "v3", cas))
        out["get_after_cas"] = mc.get("k")
        out["cas_missing"] = error_or(lambda: mc.cas("no-such-key", "x", cas))

        out["set_int"] = mc.set("n", 10)
        out["incr"] = mc.incr("n", 5)
        out["decr_below_zero"] = mc.decr("n", 20)
        out["get_after_decr"] = mc.get("n")
        out["incr_missing"] = error_or(lambda: mc.incr("no-such-counter", 1))

        out["add_existing"] = error_or(lambda: mc.add("k", "x"))
        out["add_new"] = mc.add("k-new", "added")
        out["replace_existing"] = mc.replace("k", "v4")
        out["replace_missing"] = error_or(lambda: mc.replace("no-such-key", "x"))
        out["append"] = mc.append("k", "!")
        out["prepend"] = mc.prepend("k", "<")
        out["get_after_append_prepend"] = mc.get("k")
        out["append_missing"] = error_or(lambda: mc.append("no-such-key", "x"))

        values = {"int": 42, "bytes": b"raw\x00bytes", "text": "text", "pickled": {"a": [1, 2.5, None]},
                  "bool": True, "big": 2 ** 70}
        out["set_multi_failed"] = sorted(mc.set_multi(values, time=60))
        got = mc.get_multi(list(values) + ["no-such-key"])
        out["get_multi"] = got
        out["get_multi_types"] = {k: type(v).__name__ for k, v in got.items()}
        out["raw_headers"] = {k: raw_get_header(port, k).split(b"\r\n")[0] for k in sorted(values)}

        out["touch"] = mc.touch("k", 100)
        out["touch_missing"] = error_or(lambda: mc.touch("no-such-key", 100))
        out["delete"] = mc.delete("k")
        out["delete_missing"] = error_or(lambda: mc.delete("k"))
        out["get_after_delete"] = mc.get("k")
        out["delete_multi"] = mc.delete_multi(["int", "text"])
        out["get_multi_after_delete"] = sorted(mc.get_multi(list(values)))

        out["flush_all_again"] = mc.flush_all()
        out["get_multi_after_flush"] = mc.get_multi(list(values) + ["k-new", "n"])
        return out
    finally:
        mc.disconnect_all()


def error_or(fn):
    try:
        return fn()
    except pylibmc.Error as e:
        return {"raised": type(e).__name__}


run(main)
