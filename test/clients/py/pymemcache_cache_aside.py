"""Cache-aside (read-through) in front of a slow database, as in the
pymemcache tutorial: the first read misses and loads from the database, the
second is served by the cache, and an update invalidates the cached copy.
Usage: pymemcache_cache_aside.py PORT"""
from pymemcache import serde
from pymemcache.client.base import Client

from report import run


class SlowDatabase:
    """Stands in for the database; counts the loads the cache should save."""

    def __init__(self):
        self.rows = {42: {"id": 42, "name": "Ada", "visits": 7}}
        self.loads = 0

    def load_user(self, user_id):
        self.loads += 1
        return dict(self.rows[user_id])

    def save_user(self, user):
        self.rows[user["id"]] = dict(user)


def get_user(cache, db, user_id):
    key = "user:%d" % user_id
    user = cache.get(key)
    if user is None:
        user = db.load_user(user_id)
        cache.set(key, user, expire=300)
    return user


def update_user(cache, db, user):
    db.save_user(user)
    cache.delete("user:%d" % user["id"])


def main(argv):
    port = int(argv[0])
    # The pickle serde stores dicts pickled and marks them with a flag.
    cache = Client(("127.0.0.1", port), serde=serde.pickle_serde,
                   connect_timeout=5, timeout=5, default_noreply=False)
    db = SlowDatabase()
    try:
        out = {}
        out["first_read"] = get_user(cache, db, 42)
        out["loads_after_first"] = db.loads
        out["second_read"] = get_user(cache, db, 42)
        out["loads_after_second"] = db.loads
        update_user(cache, db, {"id": 42, "name": "Ada Lovelace", "visits": 8})
        out["cached_after_update"] = cache.get("user:42")
        out["read_after_update"] = get_user(cache, db, 42)
        out["loads_after_update"] = db.loads
        out["read_again"] = get_user(cache, db, 42)
        out["loads_final"] = db.loads
        return out
    finally:
        cache.close()


run(main)
