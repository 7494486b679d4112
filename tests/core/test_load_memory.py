"""What a load keeps alive: no prefetch thread or reply outlives the read, shared strings stay equal.

The peak itself is measured by ``benchmarks/bench_load.py`` (issue 11); these tests pin the
mechanisms that keep it low, against a real server where a server is involved.
"""

from __future__ import annotations

import gc
import threading
import weakref
from collections.abc import Iterator

import redis
from byteforms import hmset

import jsadmin
from jsadmin.scan import HSCAN_COUNT, PREFETCH_DEPTH, _prefetched


class Reply:
    """A stand-in for one network reply that can be watched with a weak reference."""

    def __init__(self, n: int) -> None:
        self.n = n


def _prefetch_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "jsadmin-prefetch" and t.is_alive()]


def test_prefetch_stops_and_drops_its_replies_when_the_reader_stops_early() -> None:
    produced: list[int] = []
    alive: weakref.WeakSet[Reply] = weakref.WeakSet()

    def replies() -> Iterator[Reply]:
        for i in range(1000):
            produced.append(i)
            reply = Reply(i)
            alive.add(reply)
            yield reply

    before = len(_prefetch_threads())
    batches = _prefetched(replies())
    first = next(batches)
    assert first.n == 0
    batches.close()  # what a `break` out of the reader's loop does
    del first
    gc.collect()
    assert len(_prefetch_threads()) == before
    assert len(produced) <= PREFETCH_DEPTH + 3  # it stopped fetching, it did not read all 1000
    assert len(alive) == 0  # the batches it had fetched ahead are not kept


def test_prefetch_hands_over_every_batch_in_order() -> None:
    assert list(_prefetched(iter(range(50)))) == list(range(50))


def test_a_limited_load_of_a_big_hash_leaves_no_thread_behind(r: redis.Redis, redis_url: str) -> None:
    job = b'{"guid":"%d","id":%d,"gid":7,"state":"OK","_meta":["system","job",1]}'
    pipe = r.pipeline(transaction=False)
    for i in range(HSCAN_COUNT * 6):
        pipe.hset("jobs:7", str(i), job % (i, i))
    pipe.execute()
    before = len(_prefetch_threads())
    admin = jsadmin.connect(redis_url)
    assert len(admin.load("jobs", limit=10)) == 10
    assert len(_prefetch_threads()) == before  # on the old reader it blocked forever on a full queue
    assert len(admin.load("jobs")) == HSCAN_COUNT * 6  # and the connection is still usable
    admin.close()


def test_meta_strings_are_shared_and_unchanged(r: redis.Redis, redis_url: str) -> None:
    hmset(r, "jobs:1", {  # HMSET: multi-field HSET is Redis 4.0+, the matrix has 2.8 and 3.0
        "a": b'{"guid":"a","_meta":["system","job",1],"roles":["node","web"]}',
        "b": b'{"guid":"b","_meta":["system","job",1],"roles":["node"]}',
        "c": b'{"guid":"c","_meta":null,"roles":[]}',
    })
    admin = jsadmin.connect(redis_url)
    df = admin.load("jobs").sort_values("guid").reset_index(drop=True)
    admin.close()
    meta, roles = df["_meta"].tolist(), df["roles"].tolist()
    assert meta == [["system", "job", 1], ["system", "job", 1], None]
    assert roles == [["node", "web"], ["node"], []]
    assert meta[0][0] is meta[1][0] and roles[0][0] is roles[1][0]  # one str object, not one per row
    assert meta[0] is not meta[1]  # the lists stay one per cell: changing one changes no other row
