"""Calls handed over together: order, cancellation, and a failing batch answering everyone."""

from __future__ import annotations

import asyncio

import pytest

from throttle_core.storage.coalescing import Coalescer, Waiting, settle


async def test_calls_waiting_together_go_out_in_one_batch_in_order() -> None:
    batches: list[list[int]] = []

    async def send(batch: Waiting[int]) -> None:
        batches.append([call for call, _ in batch])
        await asyncio.sleep(0)
        for call, future in batch:
            settle(future, call * 10)

    calls = Coalescer(send)
    replies = await asyncio.gather(*(calls.submit(n) for n in range(5)))
    assert replies == [0, 10, 20, 30, 40]
    assert batches == [[0, 1, 2, 3, 4]]


async def test_a_batch_whose_send_fails_answers_every_caller_with_its_error() -> None:
    async def send(batch: Waiting[int]) -> None:
        settle(batch[0][1], "first")
        if len(batch) > 1:
            raise RuntimeError("the storage's send broke")
        await asyncio.sleep(0)

    calls = Coalescer(send)
    first, second, third = (calls.submit(n) for n in range(3))
    assert await first == "first"
    for later in (second, third):
        with pytest.raises(RuntimeError, match="send broke"):
            await asyncio.wait_for(later, 1)
    assert await asyncio.wait_for(calls.submit(9), 1) == "first"


async def test_a_caller_cancelled_before_its_batch_goes_out_is_left_out() -> None:
    sent: list[int] = []

    async def send(batch: Waiting[int]) -> None:
        sent.extend(call for call, _ in batch)
        for call, future in batch:
            settle(future, call)

    calls = Coalescer(send)
    kept, dropped = calls.submit(1), calls.submit(2)
    dropped.cancel()
    assert await kept == 1
    assert sent == [1]
