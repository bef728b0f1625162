"""The web pages' cache of the services' answers (services/web/upstream.py TtlCache): kept for their time,
one load for the readers that ask meanwhile, failures never kept."""

from __future__ import annotations

import asyncio

import pytest

from services.web.upstream import TtlCache


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_an_answer_is_kept_for_its_time_then_loaded_again() -> None:
    clock, loads = Clock(), []
    cache = TtlCache(clock)

    async def load() -> int:
        loads.append(clock.now)
        return len(loads)

    async def run() -> list[int]:
        out = [await cache.get("k", 30, load)]
        clock.now += 29.9
        out.append(await cache.get("k", 30, load))  # still within 30 s: the same answer
        clock.now += 0.2
        out.append(await cache.get("k", 30, load))  # 30.1 s after: loaded again
        out.append(await cache.get("other", 30, load))
        return out

    assert asyncio.run(run()) == [1, 1, 2, 3]
    assert loads == [100.0, 130.1, 130.1]


def test_concurrent_readers_share_one_load() -> None:
    loads = 0
    gate = asyncio.Event()

    async def load() -> str:
        nonlocal loads
        loads += 1
        await gate.wait()
        return "page"

    async def run() -> list[str]:
        cache = TtlCache(Clock())
        readers = [asyncio.create_task(cache.get("p", 30, load)) for _ in range(5)]
        await asyncio.sleep(0)
        gate.set()
        return await asyncio.gather(*readers)

    assert asyncio.run(run()) == ["page"] * 5
    assert loads == 1


def test_a_failure_reaches_every_waiting_reader_and_is_not_kept() -> None:
    calls = 0

    async def failing() -> str:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0)
        raise RuntimeError("history down")

    async def run() -> tuple[list[BaseException | str], str]:
        cache = TtlCache(Clock())
        got = await asyncio.gather(*(cache.get("p", 30, failing) for _ in range(3)), return_exceptions=True)

        async def fine() -> str:
            return "back"

        return list(got), await cache.get("p", 30, fine)

    got, after = asyncio.run(run())
    assert [str(g) for g in got] == ["history down"] * 3 and calls == 1
    assert after == "back"  # the failure was not kept


def test_a_zero_ttl_is_never_kept_and_the_size_is_bounded() -> None:
    clock = Clock()
    cache = TtlCache(clock, max_entries=3)
    n = 0

    async def load() -> int:
        nonlocal n
        n += 1
        return n

    async def run() -> list[int]:
        out = [await cache.get("z", 0, load), await cache.get("z", 0, load)]
        for key in "abcd":
            await cache.get(key, 30, load)
        return out

    assert asyncio.run(run()) == [1, 2]
    assert len(cache._entries) <= 3


@pytest.mark.parametrize("ttl", [30.0])
def test_clear_forgets_everything(ttl: float) -> None:
    cache = TtlCache(Clock())
    n = 0

    async def load() -> int:
        nonlocal n
        n += 1
        return n

    async def run() -> tuple[int, int]:
        first = await cache.get("k", ttl, load)
        cache.clear()
        return first, await cache.get("k", ttl, load)

    assert asyncio.run(run()) == (1, 2)
