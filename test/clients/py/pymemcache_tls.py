"""pymemcache over TLS (its tls_context argument), as against memcached -Z:
set/get/gets/cas/incr through one encrypted connection, the server's
certificate verified against the test CA, optionally with a client
certificate.
Usage: pymemcache_tls.py PORT CA_FILE [CLIENT_CERT CLIENT_KEY]"""
import ssl

from pymemcache.client.base import Client

from report import run


def main(argv):
    port, ca_file = int(argv[0]), argv[1]
    context = ssl.create_default_context(cafile=ca_file)
    if len(argv) >= 4:
        context.load_cert_chain(argv[2], argv[3])
    c = Client(("127.0.0.1", port), connect_timeout=5, timeout=5, default_noreply=False, tls_context=context)
    try:
        out = {}
        out["set"] = c.set("tls:key", b"over tls")
        out["get"] = c.get("tls:key")
        value, cas = c.gets("tls:key")
        out["gets_value"] = value
        out["cas_ok"] = c.cas("tls:key", b"swapped", cas)
        out["cas_stale"] = c.cas("tls:key", b"stale", cas)
        out["get_after_cas"] = c.get("tls:key")
        c.set("tls:n", b"41")
        out["incr"] = c.incr("tls:n", 1)
        big = b"v" * 100000
        c.set("tls:big", big)
        out["big_roundtrip"] = c.get("tls:big") == big
        out["cipher"] = c.sock.version()
        return out
    finally:
        c.close()


run(main)
