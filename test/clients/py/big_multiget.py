"""One multiget of many keys through a real client, as PHP's getMulti and
pymemcache's get_many users send them: every stored key must come back.
Usage: big_multiget.py PORT CLIENT NKEYS KEYLEN STORE_EVERY
CLIENT is pymemcache, pylibmc-text or pylibmc-binary; every STORE_EVERY-th
key is stored first (its value names it), the others are misses."""
from report import run


def keys_of(nkeys, keylen):
    return [("k%d:" % i).ljust(keylen, "x") for i in range(nkeys)]


def main(argv):
    port, client, nkeys, keylen, every = int(argv[0]), argv[1], int(argv[2]), int(argv[3]), int(argv[4])
    keys = keys_of(nkeys, keylen)
    stored = {k: ("v%d" % i).encode() for i, k in enumerate(keys) if i % every == 0}
    if client == "pymemcache":
        from pymemcache.client.base import Client
        c = Client(("127.0.0.1", port), connect_timeout=5, timeout=30, default_noreply=False)
        failed = c.set_many(stored)
        got = c.get_many(keys)
        c.close()
    else:
        import pylibmc
        c = pylibmc.Client(["127.0.0.1:%d" % port], binary=client == "pylibmc-binary")
        c.behaviors["receive_timeout"] = 30_000_000
        c.behaviors["send_timeout"] = 30_000_000
        failed = c.set_multi(stored)
        got = c.get_multi(keys)
        c.disconnect_all()
    wrong = [k for k, v in stored.items() if got.get(k) != v]
    extra = [k for k in got if k not in stored]
    return {"failed_sets": len(failed), "hits": len(got), "stored": len(stored),
            "wrong": len(wrong), "extra": len(extra)}


run(main)
