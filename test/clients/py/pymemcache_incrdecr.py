"""incr/decr as pymemcache sees them, including the edges where memcached's
answers are easy to get wrong: decr clamps at 0, incr wraps at 2^64, a
missing key gives None, and a decr that shrinks the number is written in
place, padded with spaces (a later get returns b"0 ").
Usage: pymemcache_incrdecr.py PORT"""
from pymemcache.client.base import Client

from report import error_name, run


def main(argv):
    port = int(argv[0])
    c = Client(("127.0.0.1", port), connect_timeout=5, timeout=5, default_noreply=False)
    try:
        out = {}
        c.set("n", b"10")
        out["incr_5"] = c.incr("n", 5)
        out["decr_20"] = c.decr("n", 20)
        out["get_after_decr_to_0"] = c.get("n")
        out["incr_after_padding"] = c.incr("n", 7)
        out["get_after_incr_in_place"] = c.get("n")
        out["incr_grows"] = c.incr("n", 1000)
        out["get_after_growth"] = c.get("n")

        c.set("hundred", b"100")
        out["decr_to_99"] = c.decr("hundred", 1)
        out["get_99"] = c.get("hundred")
        out["gets_99_value"] = c.gets("hundred")[0]

        out["incr_missing"] = c.incr("no-such-counter", 1)
        out["decr_missing"] = c.decr("no-such-counter", 1)
        out["get_missing_after"] = c.get("no-such-counter")

        c.set("max", b"18446744073709551615")
        out["incr_wraps"] = c.incr("max", 1)
        out["get_after_wrap"] = c.get("max")
        c.set("big", b"18446744073709551614")
        out["incr_to_max"] = c.incr("big", 1)

        c.set("word", b"hello")
        out["incr_non_numeric"] = error_name(lambda: c.incr("word", 1))
        out["get_word_after"] = c.get("word")
        c.set("neg", b"-5")
        out["incr_negative_text"] = error_name(lambda: c.incr("neg", 1))
        out["incr_big_delta"] = c.set("d", b"1") and c.incr("d", 18446744073709551614)

        c.set("nr", b"1")
        out["incr_noreply"] = c.incr("nr", 41, noreply=True)
        out["get_after_incr_noreply"] = c.get("nr")
        return out
    finally:
        c.close()


run(main)
