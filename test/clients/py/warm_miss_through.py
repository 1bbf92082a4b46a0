"""Reads keys through a node that warms from an old one (--warm-from) with two
real clients: pylibmc over the binary protocol (get_multi: a run of getkq and
a noop) and pymemcache over the text protocol (get_many). Values come back as
their Python repr (see report.jsonable).
Usage: warm_miss_through.py PORT KEY..."""
import pylibmc
from pymemcache.client.base import Client

from report import run


def main(argv):
    port = int(argv[0])
    keys = argv[1:]
    half = len(keys) // 2
    binary = pylibmc.Client(["127.0.0.1:%d" % port], binary=True,
                            behaviors={"connect_timeout": 5000, "receive_timeout": 5000000,
                                       "send_timeout": 5000000})
    text = Client(("127.0.0.1", port), connect_timeout=5, timeout=5, default_noreply=False)
    try:
        return {
            "pylibmc_binary": binary.get_multi(keys[:half]),
            "pymemcache_text": {k: v for k, v in text.get_many(keys[half:]).items()},
        }
    finally:
        binary.disconnect_all()
        text.close()


run(main)
