"""events.tail.wait: a dispatcher's sleep between polls must end when its task is cancelled,
even when the wake-up and the cancel arrive together (a server stopping under load)."""

from __future__ import annotations

import asyncio

import pytest

from onhand.events.tail import wait


@pytest.mark.parametrize("hops", [0, 1, 2, 3])
def test_a_cancel_that_arrives_with_the_wake_up_is_not_lost(hops):
    """The stop cancels `hops` loop steps after the wake-up: a task still running then must
    end cancelled, not go on to its next poll as if no stop had come."""

    async def main() -> None:
        waiter = asyncio.Event()
        task = asyncio.create_task(wait(waiter, 30))
        await asyncio.sleep(0)  # the task now sleeps on the waiter
        waiter.set()
        for _ in range(hops):
            await asyncio.sleep(0)
        if task.done():
            return  # it had returned before the stop: nothing to lose
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(main())


def test_it_returns_when_woken_and_when_the_time_is_up():
    async def main() -> None:
        waiter = asyncio.Event()
        asyncio.get_running_loop().call_later(0.01, waiter.set)
        await wait(waiter, 30)
        assert not waiter.is_set()  # cleared for the next round
        await wait(waiter, 0.01)

    asyncio.run(main())
