"""The import runner's read-ahead: batches worked on one ahead in a helper thread."""

from __future__ import annotations

import sys
import threading

import pytest

from kehu.dataio.services import _one_ahead


class Boom(Exception):
    pass


def test_results_in_order_and_work_runs_off_the_callers_thread():
    threads = set()

    def work(n: int) -> int:
        threads.add(threading.get_ident())
        return n * n

    assert list(_one_ahead(iter(range(20)), work)) == [n * n for n in range(20)]
    assert threading.get_ident() not in threads


def test_an_empty_input_gives_nothing():
    assert list(_one_ahead(iter([]), lambda n: n)) == []


def test_an_error_in_work_arrives_after_every_earlier_result():
    def work(n: int) -> int:
        if n == 3:
            raise Boom(n)
        return n

    got = []
    with pytest.raises(Boom):
        for result in _one_ahead(iter(range(10)), work):
            got.append(result)
    assert got == [0, 1, 2]


def test_an_error_in_the_input_arrives_in_order_too():
    def items():
        yield 1
        yield 2
        raise Boom

    got = []
    with pytest.raises(Boom):
        for result in _one_ahead(items(), lambda n: n):
            got.append(result)
    assert got == [1, 2]


def test_stopping_early_reads_at_most_one_item_ahead_and_restores_the_switch_interval():
    before = sys.getswitchinterval()
    read = []

    def items():
        for n in range(100):
            read.append(n)
            yield n

    results = _one_ahead(items(), lambda n: n)
    assert next(results) == 0
    assert sys.getswitchinterval() <= before
    results.close()
    assert read == [0, 1]
    assert sys.getswitchinterval() == before
