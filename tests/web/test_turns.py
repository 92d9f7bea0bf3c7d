"""Handlers on the event loop take turns: first come first served, one per pass of the loop."""

from __future__ import annotations

import asyncio

import pytest

from dailypapers.web.turns import LoopTurns


async def _take_turn(turns: LoopTurns, name: str, log: list[str]) -> None:
    async with turns:
        log.append(name)


def test_an_idle_server_runs_a_handler_at_once() -> None:
    async def main() -> list[str]:
        turns, log = LoopTurns(), list[str]()
        asyncio.get_running_loop().call_soon(log.append, "next pass")
        async with turns:  # nobody ahead: no pass of the loop in between
            log.append("handler")
        await asyncio.sleep(0)
        return log

    assert asyncio.run(main()) == ["handler", "next pass"]


def test_turns_go_in_the_order_asked_with_a_pass_of_the_loop_between() -> None:
    async def main() -> list[str]:
        turns, log = LoopTurns(), list[str]()
        loop = asyncio.get_running_loop()
        async with turns:
            waiting = [asyncio.create_task(_take_turn(turns, f"t{i}", log)) for i in range(3)]
            await asyncio.sleep(0)  # all three now wait, in order
            assert turns.waiting == 3
            log.append("first")
            # Scheduled while a handler runs, as a socket read would be: it runs before the
            # next handler, not after all of them.
            loop.call_soon(log.append, "read")
        late = asyncio.create_task(_take_turn(turns, "late", log))
        await asyncio.gather(*waiting, late)
        return log

    log = asyncio.run(main())
    assert log[0] == "first"
    assert log.index("read") < log.index("t0")
    assert [name for name in log if name.startswith("t")] == ["t0", "t1", "t2"]
    assert log[-1] == "late"


def test_a_handler_that_fails_hands_the_turn_on() -> None:
    async def fails(turns: LoopTurns) -> None:
        async with turns:
            raise ValueError("bad request")

    async def main() -> list[str]:
        turns, log = LoopTurns(), list[str]()
        async with turns:
            failing = asyncio.create_task(fails(turns))
            after = asyncio.create_task(_take_turn(turns, "after", log))
            await asyncio.sleep(0)
        with pytest.raises(ValueError, match="bad request"):
            await failing
        await after
        return log

    assert asyncio.run(main()) == ["after"]


@pytest.mark.parametrize("came", [False, True], ids=["while-waiting", "after-its-turn-came"])
def test_a_cancelled_waiter_holds_up_nobody(came: bool) -> None:
    """Cancelled while it waits, it loses its turn; cancelled after its turn was handed to
    it (before it ran), it hands the turn on."""

    async def main() -> list[str]:
        turns, log = LoopTurns(), list[str]()
        async with turns:
            gone = asyncio.create_task(_take_turn(turns, "gone", log))
            kept = asyncio.create_task(_take_turn(turns, "kept", log))
            await asyncio.sleep(0)  # both wait, in order
            if not came:
                gone.cancel()
        if came:
            await asyncio.sleep(0)  # the turn is handed to `gone` on this pass...
            gone.cancel()  # ...and it is cancelled before it runs
        await asyncio.gather(gone, kept, return_exceptions=True)
        assert gone.cancelled()
        async with turns:  # the turn is free again: the next handler runs at once
            log.append("idle again")
        return log

    assert asyncio.run(main()) == ["kept", "idle again"]


def test_turns_left_on_a_closed_loop_do_not_block_the_next() -> None:
    turns = LoopTurns()

    async def leave_busy() -> None:
        await turns.__aenter__()  # never left: the loop ends with the turn taken

    asyncio.run(leave_busy())

    async def main() -> list[str]:
        log: list[str] = []
        await asyncio.wait_for(_take_turn(turns, "on a new loop", log), timeout=5)
        return log

    assert asyncio.run(main()) == ["on a new loop"]


def test_handlers_ready_in_one_pass_still_run_one_per_pass() -> None:
    async def handler(turns: LoopTurns, name: str, log: list[str]) -> None:
        async with turns:
            log.append(name)
            # What the loop reads while this handler runs (a socket's next request) comes
            # before the next handler, not after every handler of this pass.
            asyncio.get_running_loop().call_soon(log.append, f"read after {name}")

    async def main() -> list[str]:
        turns, log = LoopTurns(), list[str]()
        await asyncio.gather(*(handler(turns, f"t{i}", log) for i in range(3)))
        await asyncio.sleep(0)
        return log

    assert asyncio.run(main()) == [
        "t0", "read after t0", "t1", "read after t1", "t2", "read after t2"
    ]  # fmt: skip
