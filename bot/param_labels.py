"""What each command parameter is called in messages, in the reader's language.

A parameter's code name (``sector=``) is the syntax members type and stays as it is; the
messages that name a parameter ("Missing: title.", "start: …") use these labels instead.
tests/test_registry.py keeps one for every declared parameter.
"""

from __future__ import annotations

from bot.i18n import N_, LazyText

PARAM_LABELS: dict[str, LazyText] = {
    "accessibility": N_("accessibility"),
    "address": N_("address"),
    "anonymous": N_("anonymous"),
    "answer": N_("answer"),
    "before": N_("older than"),
    "bio": N_("bio"),
    "by": N_("breakdown"),
    "capacity": N_("capacity"),
    "category": N_("category"),
    "choices": N_("choices"),
    "circle": N_("circle"),
    "city": N_("city"),
    "closes": N_("closing day"),
    "code": N_("code"),
    "command": N_("command"),
    "confirm": N_("confirmation"),
    "count": N_("number of dates"),
    "csv": N_("CSV file"),
    "decision": N_("decision"),
    "description": N_("description"),
    "duration": N_("duration"),
    "every": N_("repetition"),
    "everyone": N_("everyone"),
    "format": N_("format"),
    "intro": N_("introduction"),
    "key": N_("key"),
    "kind": N_("kind"),
    "language": N_("language"),
    "languages": N_("languages"),
    "level": N_("level"),
    "locale": N_("language"),
    "meetup": N_("meetup"),
    "member": N_("member"),
    "message": N_("message"),
    "mine": N_("only mine"),
    "name": N_("name"),
    "occurrence": N_("date"),
    "online": N_("online"),
    "open": N_("open"),
    "outcome": N_("outcome"),
    "page": N_("page"),
    "part": N_("part"),
    "period": N_("period"),
    "pitch": N_("pitch"),
    "post": N_("post"),
    "project": N_("project"),
    "question": N_("question"),
    "region": N_("region"),
    "remind_maybe": N_("remind if maybe"),
    "reminders": N_("reminders"),
    "remote": N_("remote"),
    "request": N_("request"),
    "response": N_("response"),
    "results": N_("results for all"),
    "role": N_("role"),
    "sector": N_("sector"),
    "sectors": N_("sectors"),
    "since": N_("from"),
    "skill": N_("skill"),
    "skills": N_("skills"),
    "source": N_("source"),
    "start": N_("start"),
    "survey": N_("survey"),
    "switch": N_("on or off"),
    "tags": N_("tags"),
    "target": N_("target"),
    "text": N_("text"),
    "title": N_("title"),
    "until": N_("until"),
    "value": N_("answer"),
    "venue": N_("venue"),
    "version": N_("version"),
    "visibility": N_("visibility"),
    "which": N_("which"),
    "with": N_("with"),
}


def param_label(name: str) -> LazyText | str:
    """The label of a parameter (its code name when it has none)."""
    return PARAM_LABELS.get(name, name)
