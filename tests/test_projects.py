"""Projects: a lead presents one, lists roles; members join or are introduced."""

from __future__ import annotations

from adapters.memory import MemoryAdapter
from tests.helpers import english, field, number_of, refused, snapshot


async def test_a_project_finds_its_people(bot: MemoryAdapter) -> None:
    await english(bot, "lead", "sceno", "driver", "friend")
    await bot.say("sceno", '!profile set sectors=performing-arts skills="scenography, props"')
    project = await number_of(
        bot,
        "lead",
        '!project create Street opera pitch="An opera on a market square" '
        "sector=performing-arts region=liege",
    )
    added = await bot.say("lead", f"!project slot add {project} scenographer")
    assert not added.is_error, added.text
    assert "sceno" in field(added, "Members who may fit")
    await bot.say("lead", f"!project slot add {project} van with driver")

    found = await bot.say("friend", "!board search scenograph")
    assert "project need" in found.text
    assert "scenographer" in found.text

    asked = await bot.say("sceno", f'!project join {project} scenographer message="I\'d love to"')
    assert not asked.is_error, asked.text
    request = bot.inbox["lead"][-1]
    assert "sceno would like to join" in request.text
    accept = next(a for a in request.actions if a.invocation.endswith("accept"))
    accepted = await bot.say("lead", "!" + accept.invocation)
    assert "Console: sceno" in accepted.text
    assert "Console: lead" in bot.inbox["sceno"][-1].text
    assert "scenographer" not in (await bot.say("friend", "!board search scenograph")).text

    introduced = await bot.say("friend", f"!project introduce {project} driver role=van")
    assert introduced.is_error  # "van" is not the role's whole name
    introduced = await bot.say(
        "friend", f'!project introduce {project} driver role="van with driver"'
    )
    assert not introduced.is_error, introduced.text
    assert "friend proposed you" in bot.inbox["driver"][-1].text
    assert "friend introduces driver" in bot.inbox["lead"][-1].text

    shown = await bot.say("friend", f"!project show {project}")
    roles = field(shown, "Roles")
    assert "filled by sceno" in roles
    assert "**van with driver** · open" in roles

    assert "Street opera" in (await bot.say("friend", "!project list")).text
    closed = await bot.say("lead", f"!project close {project}")
    assert not closed.is_error
    assert "Street opera" not in (await bot.say("friend", "!project list")).text
    assert "van with driver" not in (await bot.say("friend", "!board search van")).text


async def test_only_the_lead_changes_a_project(bot: MemoryAdapter) -> None:
    await english(bot, "lea", "other")
    project = await number_of(bot, "lea", "!project create Dance film")
    await refused(
        bot,
        "other",
        f"!project slot add {project} editor",
        f"!project close {project}",
        "!project answer 1 accept",
    )
    assert (await bot.say("other", f"!project join {project} editor")).is_error
    assert (await bot.say("lea", f"!project join {project} x")).is_error


async def test_the_lead_closes_a_role_that_is_no_longer_needed(bot: MemoryAdapter) -> None:
    await english(bot, "lead", "driver", "other", "admin")
    await bot.say("driver", '!profile set skills="van driving"')
    project = await number_of(bot, "lead", "!project create Street opera")
    await bot.say("lead", f"!project slot add {project} van with driver")
    await bot.say("lead", f"!project slot add {project} scenographer")
    assert "van with driver" in (await bot.say("other", "!board search van")).text
    await bot.say("driver", f'!project join {project} "van with driver"')

    before = snapshot(bot.app)
    refused = await bot.say("other", f"!project slot close {project} van with driver")
    assert refused.is_error and "Only the lead" in refused.text
    assert snapshot(bot.app) == before

    closed = await bot.say("lead", f"!project slot close {project} van with driver")
    assert not closed.is_error, closed.text
    assert "closed" in closed.text
    assert "no longer needed" in bot.inbox["driver"][-1].text  # the pending request ends
    assert "van with driver" not in (await bot.say("other", "!board search van")).text
    listed = (await bot.say("other", "!project list")).text
    assert "scenographer" in listed and "van with driver" not in listed
    shown = await bot.say("other", f"!project show {project}")
    assert "van with driver · closed" in field(shown, "Roles")
    assert all("van" not in a.invocation for a in shown.actions)
    offer = await bot.say("driver", "!offer post Van with driver for your tour tags=van")
    assert "van with driver" not in str(offer.fields)

    again = await bot.say("other", f'!project join {project} "van with driver"')
    assert again.is_error and "no longer needed" in again.text
    assert (await bot.say("lead", f"!project slot close {project} van with driver")).is_error
    assert not (await bot.say("admin", f"!project slot close {project} scenographer")).is_error
    await bot.say("lead", "!profile set locale=fr")
    assert "clôturé" in (await bot.say("lead", f"!project slot close {project} 1")).text
