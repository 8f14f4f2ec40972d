"""SessionCounts: the connection limits see the sessions of every worker process."""

from __future__ import annotations

import os

from postroom.core.receive.limits import TABLE, SessionCounts, address_key


def test_counts_of_every_worker_add_up() -> None:
    shared = SessionCounts()
    a, b = shared.slot(shared.take_slot()), shared.slot(shared.take_slot())
    one, two = address_key("127.0.0.1"), address_key("192.0.2.7")
    a.add(one)
    a.add(one)
    b.add(one)
    b.add(two)
    assert shared.for_client(one) == 3
    assert shared.for_client(two) == 1
    assert shared.for_client(address_key("198.51.100.1")) == 0
    assert shared.total() == 4
    a.remove(one)
    assert (shared.for_client(one), shared.total()) == (2, 3)


def test_a_forked_worker_writes_where_the_daemon_reads() -> None:
    shared = SessionCounts()
    index = shared.take_slot()
    key = address_key("127.0.0.1")
    pid = os.fork()
    if pid == 0:
        shared.slot(index).add(key)
        os._exit(0)
    os.waitpid(pid, 0)
    assert shared.for_client(key) == 1 and shared.total() == 1


def test_a_freed_slot_no_longer_counts_and_is_reused() -> None:
    shared = SessionCounts()
    first = shared.take_slot()
    second = shared.take_slot()
    shared.slot(first).add(address_key("127.0.0.1"))
    shared.slot(second).add(address_key("127.0.0.1"))
    shared.free_slot(first)  # that worker has exited
    assert shared.total() == 1
    assert shared.take_slot() == first
    assert shared.total() == 1  # a new slot starts empty


def test_many_different_clients_over_time() -> None:
    shared = SessionCounts()
    own = shared.slot(shared.take_slot())
    keep = address_key("2001:db8::1")
    own.add(keep)
    for n in range(3 * TABLE):  # far more addresses than the table holds at once
        key = address_key(f"10.{n // 65536}.{n // 256 % 256}.{n % 256}")
        own.add(key)
        assert shared.for_client(key) == 1
        own.remove(key)
        assert shared.for_client(key) == 0
    assert shared.for_client(keep) == 1 and shared.total() == 1


def test_address_keys() -> None:
    assert address_key("127.0.0.1") == bytes(10) + b"\xff\xff\x7f\x00\x00\x01"
    assert address_key("::ffff:127.0.0.1") == address_key("127.0.0.1")
    assert address_key("fe80::1%eth0") == address_key("fe80::1")
    assert address_key("not an address") == address_key("not an address")
    assert address_key("not an address") != address_key("also not one")
