"""The gets/cas visitor counter from the pymemcache tutorial, run by several
processes at once against one server: each increment is a gets followed by a
cas, retried when another process changed the value in between. No update
may be lost, so the final count is exactly workers x increments.
Usage: pymemcache_visitor_counter.py PORT WORKERS INCREMENTS"""
import multiprocessing
import time

from pymemcache.client.base import Client

from report import run

KEY = "visitors"
# Bounds so a broken server cannot make a worker spin forever.
MAX_ATTEMPTS_PER_INCREMENT = 1000
DEADLINE_SECONDS = 30


def client(port):
    return Client(("127.0.0.1", port), connect_timeout=5, timeout=5, default_noreply=False)


def count_visits(port, increments, start, results):
    try:
        results.put(("ok", increment_all(port, increments, start)))
    except Exception as e:
        results.put(("error", "%s: %s" % (type(e).__name__, e)))


def increment_all(port, increments, start):
    c = client(port)
    retries = 0
    start.wait(10)
    deadline = time.monotonic() + DEADLINE_SECONDS
    for _ in range(increments):
        for _attempt in range(MAX_ATTEMPTS_PER_INCREMENT):
            if time.monotonic() > deadline:
                raise RuntimeError("visitor counter worker passed its deadline")
            value, cas = c.gets(KEY)
            if value is None:
                # add is atomic: only one process creates the counter.
                if c.add(KEY, b"1", noreply=False):
                    break
            elif c.cas(KEY, str(int(value) + 1).encode(), cas, noreply=False):
                break
            retries += 1
        else:
            raise RuntimeError("no cas succeeded after %d attempts" % MAX_ATTEMPTS_PER_INCREMENT)
    c.close()
    return retries


def main(argv):
    port, workers, increments = int(argv[0]), int(argv[1]), int(argv[2])
    c = client(port)
    c.delete(KEY)
    ctx = multiprocessing.get_context("fork")
    start, results = ctx.Barrier(workers), ctx.Queue()
    procs = [ctx.Process(target=count_visits, args=(port, increments, start, results))
             for _ in range(workers)]
    for p in procs:
        p.start()
    outcomes = [results.get(timeout=DEADLINE_SECONDS + 15) for _ in procs]
    errors = [msg for status, msg in outcomes if status != "ok"]
    if errors:
        raise RuntimeError("visitor counter workers failed: %s" % "; ".join(errors))
    retries = [n for _, n in outcomes]
    for p in procs:
        p.join(10)
        if p.exitcode != 0:
            raise RuntimeError("worker %d exited with %r" % (p.pid, p.exitcode))
    final = c.get(KEY)
    c.close()
    return {"final": int(final) if final is not None else None,
            "expected": workers * increments, "retries": retries}


run(main)
