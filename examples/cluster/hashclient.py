#!/usr/bin/env python3
"""The same pool without a proxy: pymemcache's HashClient in the application.

HashClient (pymemcache 3.5) places keys by rendezvous hashing over each
server's "host:port", so a replacement node at a new address would own a
different share of the keys, taken from every node. NamedRendezvousHash
hashes each server's *name* instead (mc1, mc2, mc3): a replacement that takes
the old node's name owns exactly the old node's keys, as with twemproxy's
named ketama servers.

Driven by swap.mjs (hashclient-pool.mjs) over stdin/stdout, one JSON object
per line each way:
  {"cmd": "load"}                      -> {"loaded": n}
  {"cmd": "read"}                      -> {"reading": true}, then reads at --rate
  {"cmd": "swap", "servers": "..."}    -> {"swapped": true} (a new HashClient)
  {"cmd": "sweep"}                     -> {"missed": [keys]} (every key once, no refill,
                                          on a second client while reading goes on)
  {"cmd": "stop"}                      -> {"buckets": [[ms, hits, misses, errors, wrong], ...]}
Reads are cache-aside like proxy-client.mjs: a miss is written back.
"""
import argparse
import json
import queue
import random
import sys
import threading
import time

from pymemcache.client.hash import HashClient
from pymemcache.client.rendezvous import RendezvousHash

BUCKET_MS = 10


def key_of(i):
    # The same keys as proxy-client.mjs: the hex part spreads them over the pool.
    return "k%d:%08x" % (i, (i * 2654435761) & 0xFFFFFFFF)


def value_of(key, size):
    unit = (key + "|").encode("latin-1")
    return (unit * (size // len(unit) + 1))[:size]


def parse_servers(spec):
    """'mc1=127.0.0.1:4000,mc2=...' -> [(name, (host, port)), ...]"""
    out = []
    for part in spec.split(","):
        name, addr = part.split("=", 1)
        host, port = addr.rsplit(":", 1)
        out.append((name, (host, int(port))))
    return out


def named_rendezvous(names):
    """A hasher class for HashClient that scores servers by name, not address.

    HashClient calls the hasher with node keys "host:port"; `names` maps each
    of them to the server's name.
    """
    class NamedRendezvousHash(RendezvousHash):
        def get_node(self, key):
            best_score, winner = -1, None
            for node in self.nodes:
                score = self.hash_function("%s-%s" % (names[node], key))
                if score > best_score or (score == best_score and names[node] > names[winner]):
                    best_score, winner = score, node
            return winner
    return NamedRendezvousHash


def make_client(spec):
    servers = parse_servers(spec)
    names = {"%s:%d" % addr: name for name, addr in servers}
    return HashClient(
        [addr for _, addr in servers],
        hasher=named_rendezvous(names),
        connect_timeout=2,
        timeout=2,
        # A get after a noreply set would otherwise wait for a delayed ACK.
        no_delay=True,
        default_noreply=False,
    )


def commands():
    """stdin lines as a queue, so the read loop can poll between gets."""
    q = queue.Queue()

    def pump():
        for line in sys.stdin:
            if line.strip():
                q.put(json.loads(line))
        q.put({"cmd": "stop"})
    threading.Thread(target=pump, daemon=True).start()
    return q


REPLY_LOCK = threading.Lock()


def reply(obj):
    with REPLY_LOCK:
        sys.stdout.write(json.dumps(obj) + "\n")
        sys.stdout.flush()


def sweep(spec, n):
    """Reads every key once with a client of its own (the reader keeps reading meanwhile)."""
    client = make_client(spec)
    missed = []
    for start in range(0, n, 100):
        keys = [key_of(i) for i in range(start, min(n, start + 100))]
        got = client.get_many(keys)
        missed.extend(k for k in keys if k not in got)
    client.close()
    reply({"missed": missed})


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--servers", required=True)
    ap.add_argument("--keys", type=int, required=True)
    ap.add_argument("--value-bytes", type=int, required=True)
    ap.add_argument("--rate", type=float, required=True)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()

    rnd = random.Random(args.seed)
    spec = args.servers
    client = make_client(spec)
    buckets = {}
    reading = False
    inbox = commands()

    def count(field):
        at = int(time.time() * 1000) // BUCKET_MS * BUCKET_MS
        b = buckets.setdefault(at, [at, 0, 0, 0, 0])
        b[field] += 1

    next_at = time.monotonic()
    while True:
        try:
            msg = inbox.get_nowait() if reading else inbox.get()
        except queue.Empty:
            msg = None
        if msg is not None:
            cmd = msg["cmd"]
            if cmd == "load":
                loaded = 0
                for start in range(0, args.keys, 500):
                    batch = {key_of(i): value_of(key_of(i), args.value_bytes)
                             for i in range(start, min(args.keys, start + 500))}
                    failed = client.set_many(batch, noreply=False)
                    loaded += len(batch) - len(failed)
                reply({"loaded": loaded})
            elif cmd == "read":
                reading = True
                next_at = time.monotonic()
                reply({"reading": True})
            elif cmd == "swap":
                # What an application does when its server list changes: a new client.
                spec = msg["servers"]
                old, client = client, make_client(spec)
                old.close()
                reply({"swapped": True})
            elif cmd == "sweep":
                threading.Thread(target=sweep, args=(spec, args.keys), daemon=True).start()
            elif cmd == "stop":
                client.close()
                reply({"buckets": sorted(buckets.values())})
                return
            continue

        # One paced read; at most 10 ms of backlog is caught up, the rest is dropped.
        now = time.monotonic()
        if now < next_at:
            time.sleep(min(next_at - now, 0.01))
            continue
        next_at = max(next_at + 1.0 / args.rate, now - 0.01)
        key = key_of(rnd.randrange(args.keys))
        try:
            value = client.get(key)
        except Exception:
            count(3)
            continue
        if value is None:
            count(2)
            try:
                client.set(key, value_of(key, args.value_bytes), noreply=True)
            except Exception:
                pass
        else:
            count(1 if value == value_of(key, args.value_bytes) else 4)


if __name__ == "__main__":
    main()
