"""The scheduler service runs the board's periodic jobs on APScheduler."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from adapters.memory import MemoryAdapter
from bot.app import App
from bot.clock import FakeClock


async def test_the_service_starts_the_jobs_and_runs_them_at_once(
    app: App, bot: MemoryAdapter, clock: FakeClock
) -> None:
    await bot.say("uma", "!profile set locale=en")
    await bot.say("uma", "!need post Stage manager")
    clock.advance(timedelta(days=31))
    app.scheduler.start()
    try:
        assert set(app.scheduler.job_ids()) == {
            "board-expiry-warning",
            "board-expiry",
            "board-digest",
            "reminder-planning",
            "waitlist-offers",
            "outcome-checks",
            "weekly-digest",
            "event-keys-pruning",
            "meetups-held",
            "surveys",
            "topics",
            "reminder-sweep",
        }
        for _ in range(100):
            if any("expired" in r.text for r in bot.inbox["uma"]):
                break
            await asyncio.sleep(0.02)
        assert any("expired" in r.text for r in bot.inbox["uma"])
    finally:
        app.scheduler.shutdown()
    assert app.scheduler.job_ids() == []


async def test_a_failing_job_is_logged_and_the_service_goes_on(app: App) -> None:
    from scheduler.service import Periodic, SchedulerService

    calls: list[int] = []

    async def broken(services: object) -> int:
        calls.append(1)
        raise RuntimeError("job broke")

    service = SchedulerService(app.services, (Periodic("broken", broken, 60),))
    service.start()
    try:
        for _ in range(100):
            if calls:
                break
            await asyncio.sleep(0.02)
        assert calls == [1]
        assert "broken" in service.job_ids()
    finally:
        service.shutdown()
