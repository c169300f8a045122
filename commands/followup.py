"""``followup report``: what happened in the network, as figures, a chart and a CSV file.

    !followup report                               this month, the whole cooperative
    !followup report last quarter circle=gent
    !followup report 2026 by=month
    !followup report laatste 12 maanden region=flanders by=region
    !followup report 2026-01-01..2026-03-31 sector=arts by=sector csv=yes

At most one scope (``circle=``, ``sector=``, ``region=``; none: the whole cooperative); a
sector or region counts with everything below it (bot/levels.py). ``by=`` splits the period
per month, circle, sector or region (``level=`` the depth of the sector or region tree to
roll up to; by default the level below the scope's, or the first level with three keys).
Each figure comes with its change against the period before (storage/followup.py counts).

Who sees what: reports give counts, never names. A count from 1 to below the privacy
threshold (bot.toml ``[followup] privacy_threshold``) shows as "<5", in the message, the
chart (drawn as 0, with a note) and the CSV, and its change is not shown. Admins see every
count; an animator sees their own circle's in full (a report on a circle they animate, and
that circle's bucket of ``by=circle``). Members may ask any scope and breakdown, and see
these public, thresholded figures. The answer is shown only to the asker.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from babel.dates import format_date
from matplotlib.figure import Figure

from bot import charts
from bot.config import Term
from bot.context import Context
from bot.errors import UserError
from bot.i18n import N_, LazyText
from bot.levels import Hierarchy
from bot.params import Flag, Integer, OneOf, Text, Vocabulary
from bot.periods import DAYS, MONTH, QUARTER, YEAR, Period, PeriodError, parse_period
from bot.reply import Attachment, Field, Reply, Visibility
from bot.spec import CommandSet, Opt
from commands.refs import CircleRef
from storage import followup
from storage.circles import Circle, circles, is_animator
from storage.followup import Breakdown, Bucket, Figures, Report, Scope

commands = CommandSet()
commands.group("followup", help=N_("Figures of the network: meetups, needs met, introductions"))

BY = {
    "month": N_("by month"),
    "circle": N_("by circle"),
    "sector": N_("by sector"),
    "region": N_("by region"),
}
TOP = 8  # circles, sectors or regions shown side by side; the rest summed
# the rows of the table, in order: (figure, label); "attendance_rate" is derived
ROWS: tuple[tuple[str, LazyText], ...] = (
    ("meetups", N_("Meetups held")),
    ("registered", N_("Registered")),
    ("present", N_("Present")),
    ("attendance_rate", N_("Attendance rate")),
    ("needs", N_("Needs posted")),
    ("needs_met_here", N_("Needs met in the community")),
    ("needs_met_elsewhere", N_("Needs met elsewhere")),
    ("needs_withdrawn", N_("Needs withdrawn")),
    ("needs_expired", N_("Needs expired")),
    ("offers", N_("Offers posted")),
    ("responses", N_("Responses")),
    ("introductions", N_("Introductions made")),
    ("answered_work", N_("It led to work")),
    ("answered_talking", N_("Still talking")),
    ("answered_no", N_("It did not work out")),
    ("answered_unknown", N_("No answer")),
    ("active_members", N_("Active members")),
    ("new_members", N_("New members")),
    ("circle_joins", N_("Circle joins")),
    ("topics_proposed", N_("Topics proposed")),
    ("topic_supports", N_("Topic supports")),
    ("topics_opened", N_("Topics opened")),
    ("topic_messages", N_("Messages in topics")),
    ("topic_meetups", N_("Meetups from topics")),
)
# what the chart draws: a few figures that say whether the network works
CHARTED: tuple[tuple[str, LazyText], ...] = (
    ("meetups", N_("Meetups held")),
    ("present", N_("Present")),
    ("needs", N_("Needs posted")),
    ("needs_met_here", N_("Needs met in the community")),
    ("introductions", N_("Introductions made")),
)
CSV_COLUMNS = ("bucket", "attendance_rate", *followup.NAMES)


@dataclass(frozen=True)
class Shown:
    """One bucket as the asker may see it: its name, its figures, whether in full."""

    key: Bucket
    name: str
    figures: Figures
    full: bool


def _threshold(ctx: Context) -> int:
    return ctx.settings.followup.privacy_threshold


def _hidden(ctx: Context, value: int, full: bool) -> bool:
    return not full and 0 < value < _threshold(ctx)


def _value(ctx: Context, figures: Figures, name: str, full: bool) -> str:
    if name == "attendance_rate":
        if _hidden(ctx, figures.present, full) or _hidden(ctx, figures.registered, full):
            return "—"
        rate = figures.attendance_rate
        return "—" if rate is None else f"{round(rate * 100)}%"
    value: int = getattr(figures, name)
    return f"<{_threshold(ctx)}" if _hidden(ctx, value, full) else ctx.t.number(value)


def _delta(ctx: Context, now: Figures, before: Figures, name: str, full: bool) -> str:
    if name == "attendance_rate":
        a, b = now.attendance_rate, before.attendance_rate
        hidden = any(
            _hidden(ctx, getattr(f, n), full)
            for f in (now, before)
            for n in ("present", "registered")
        )
        if a is None or b is None or hidden:
            return ""
        change = round(a * 100) - round(b * 100)
    else:
        x, y = getattr(now, name), getattr(before, name)
        if _hidden(ctx, x, full) or _hidden(ctx, y, full):
            return ""
        change = x - y
    if change > 0:
        return f"▲{ctx.t.number(change)}"
    if change < 0:
        return f"▼{ctx.t.number(-change)}"
    return "="


# -- the period, the scope, the breakdown ------------------------------------------------------


def period_of(ctx: Context, text: str | None) -> Period:
    try:
        return parse_period(text or "", ctx.now(), ctx.settings.zone)
    except PeriodError as error:
        if error.reason == "future":
            raise UserError(
                N_("That period has not started yet. Try this month, last quarter or 2026.")
            ) from error
        if error.reason == "reversed":
            raise UserError(
                N_("That period ends before it starts: give the first day, then the last.")
            ) from error
        raise UserError(
            N_(
                "“{value}” is not a period I know. Try: this month, last month, this quarter, "
                "last year, 2026, 2026-03, last 12 months, 2026-01-01..2026-03-31."
            ),
            value=text or "",
        ) from error


def period_name(ctx: Context, period: Period) -> str:
    locale = ctx.t.babel_locale
    if period.shape == MONTH:
        return format_date(period.first, "LLLL y", locale=locale)
    if period.shape == YEAR and period.first.month == 1:
        return str(period.first.year)
    if period.shape == QUARTER:
        return ctx.t(
            N_("Q{quarter} {year}"),
            quarter=(period.first.month - 1) // 3 + 1,
            year=period.first.year,
        )
    return f"{ctx.t.date(period.first)} – {ctx.t.date(period.last)}"


def _keys(terms: Sequence[Term]) -> tuple[str, ...]:
    return tuple(term.key for term in terms)


def _within(levels: Hierarchy, keys: Sequence[str]) -> tuple[str, ...]:
    found: dict[str, None] = {}
    for key in keys:
        found.update(dict.fromkeys(levels.descendants(key)))
    return tuple(found)


def scope_of(
    ctx: Context,
    circle: Circle | None,
    sectors: Sequence[Term],
    regions: Sequence[Term],
) -> tuple[Scope, str]:
    """The facts a report counts and what it is called."""
    given = [x for x in (circle, tuple(sectors), tuple(regions)) if x]
    if len(given) > 1:
        raise UserError(N_("Give one scope at most: a circle, a sector or a region."))
    settings, locale = ctx.settings, ctx.t.locale
    if circle is not None:
        assert circle.id is not None
        sectors_of = (
            _within(settings.sector_levels, [circle.key]) if circle.kind == "sector" else ()
        )
        regions_of = (
            _within(settings.region_levels, [circle.key]) if circle.kind == "region" else ()
        )
        return Scope((circle.id,), sectors_of, regions_of), circle.name
    if sectors:
        name = ", ".join(term.label(locale) for term in sectors)
        return Scope(sectors=_within(settings.sector_levels, _keys(sectors))), name
    if regions:
        name = ", ".join(term.label(locale) for term in regions)
        return Scope(regions=_within(settings.region_levels, _keys(regions))), name
    return Scope(), settings.community_name


def _level(levels: Hierarchy, scoped: Sequence[str], level: int | None) -> int:
    if level is not None:
        return level
    if scoped:
        return min(levels.level(key) for key in scoped) + 1
    every, depth = levels.keys(), 0
    while depth < 8:
        if sum(1 for key in every if levels.level(key) == depth) >= 3:
            return depth
        depth += 1
    return 0


def breakdown_of(
    ctx: Context,
    by: str | None,
    period: Period,
    sectors: Sequence[Term],
    regions: Sequence[Term],
    level: int | None,
) -> Breakdown | None:
    if by is None:
        return None
    if by == "month":
        starts = period.month_starts()
        edges = tuple(Period(day, day, DAYS, period.zone).start for day in starts)
        return Breakdown("month", edges, tuple(f"{d:%Y-%m}" for d in starts))
    if by == "circle":
        return Breakdown("circle")
    levels = ctx.settings.sector_levels if by == "sector" else ctx.settings.region_levels
    scoped = _keys(sectors if by == "sector" else regions)
    depth = _level(levels, scoped, level)
    every = levels.keys()
    return Breakdown(by, mapping={key: levels.at_level(key, depth) for key in every})


def _bucket_names(ctx: Context, by: str, keys: Sequence[Bucket]) -> dict[Bucket, str]:
    locale = ctx.t.locale
    if by == "month":
        return {
            key: format_date(
                datetime.strptime(f"{key}-01", "%Y-%m-%d").date(),
                "LLL y",
                locale=ctx.t.babel_locale,
            )
            for key in keys
            if isinstance(key, str)
        } | {None: "—"}
    if by == "circle":
        names: dict[Bucket, str] = {c.id: c.name for c in circles(ctx.session, archived=True)}
        names.update({c.id: c.name for c in circles(ctx.session)})
        return {
            key: names.get(key, f"#{key}") if key is not None else ctx.t(N_("not in a circle"))
            for key in keys
        }
    terms = ctx.settings.sectors if by == "sector" else ctx.settings.regions
    labels = {term.key: term.label(locale) for term in terms}
    none = ctx.t(N_("not given"))
    return {key: labels.get(str(key), str(key)) if key is not None else none for key in keys}


def _activity(figures: Figures) -> int:
    return sum(figures.values().values())


def shown_buckets(ctx: Context, report: Report, by: str) -> list[Shown]:
    """The buckets of a breakdown as the asker sees them: months in order, else the busiest
    ``TOP`` first and the others summed; each in full or thresholded."""
    keys = list(report.buckets)
    names = _bucket_names(ctx, by, keys)
    if by == "month":
        months = sorted(str(k) for k in keys if k is not None)
        return [Shown(k, names[k], report.buckets[k], ctx.is_admin) for k in months]
    mine: set[Bucket] = set()
    if by == "circle" and not ctx.is_admin:
        mine = {k for k in keys if isinstance(k, int) and is_animator(ctx.session, ctx.actor_id, k)}
    ordered = sorted(keys, key=lambda k: (-_activity(report.buckets[k]), names[k]))
    found = [
        Shown(k, names[k], report.buckets[k], ctx.is_admin or k in mine) for k in ordered[:TOP]
    ]
    if len(ordered) > TOP:
        rest = Figures()
        for key in ordered[TOP:]:
            rest.add(report.buckets[key])
        rest.active_members = 0  # distinct members do not add up
        found.append(Shown("…", ctx.t(N_("others")), rest, ctx.is_admin))
    return found


# -- what the asker gets ------------------------------------------------------------------------


def _rows(scope: Scope) -> tuple[tuple[str, LazyText], ...]:
    # new members belong to no circle, sector or region: a figure of the whole only
    return ROWS if scope.whole else tuple(r for r in ROWS if r[0] != "new_members")


def _plotted(ctx: Context, figures: Figures, name: str, full: bool) -> int:
    value: int = getattr(figures, name)
    return 0 if _hidden(ctx, value, full) else value


def chart_of(
    ctx: Context,
    title: str,
    now: Figures,
    before: Figures,
    period: Period,
    buckets: list[Shown] | None,
    full: bool,
) -> Figure:
    """The report's chart: this period beside the one before, or the breakdown's buckets."""
    note = ""
    if not full:
        note = ctx.t(N_("Counts below {threshold} are drawn as 0."), threshold=_threshold(ctx))
    if buckets is None:
        categories = [ctx.t(label) for _, label in CHARTED]
        series = [
            charts.Series(
                period_name(ctx, period.previous()),
                [_plotted(ctx, before, name, full) for name, _ in CHARTED],
            ),
            charts.Series(
                period_name(ctx, period), [_plotted(ctx, now, name, full) for name, _ in CHARTED]
            ),
        ]
        xlabel = ""
    else:
        categories = [shown.name for shown in buckets]
        series = [
            charts.Series(ctx.t(label), [_plotted(ctx, s.figures, name, s.full) for s in buckets])
            for name, label in CHARTED
        ]
        xlabel = ""
    return charts.chart(
        title, categories, series, xlabel=xlabel, ylabel=ctx.t(N_("Number")), note=note
    )


def csv_of(
    ctx: Context,
    scope: Scope,
    now: Figures,
    before: Figures,
    buckets: list[Shown] | None,
    full: bool,
    period: Period,
) -> bytes:
    """One row per bucket (or this period and the one before), stable English keys as the
    header; a hidden count is written "<5"."""
    out = io.StringIO()
    writer = csv.writer(out)
    names = [n for n in CSV_COLUMNS if scope.whole or n != "new_members"]
    writer.writerow(names)
    rows: list[tuple[str, Figures, bool]]
    if buckets is None:
        rows = [
            (f"{period.previous().first}..{period.previous().last}", before, full),
            (f"{period.first}..{period.last}", now, full),
        ]
    else:
        rows = [(s.name, s.figures, s.full) for s in buckets] + [("total", now, full)]
    for name, figures, whole in rows:
        line = [name]
        for column in names[1:]:
            if column == "attendance_rate":
                rate = figures.attendance_rate
                hidden = _hidden(ctx, figures.present, whole) or _hidden(
                    ctx, figures.registered, whole
                )
                line.append("" if rate is None or hidden else f"{rate:.3f}")
            else:
                value = getattr(figures, column)
                line.append(f"<{_threshold(ctx)}" if _hidden(ctx, value, whole) else str(value))
        writer.writerow(line)
    return out.getvalue().encode("utf-8")


@commands.command(
    "followup report",
    help=N_("Figures of the network for a period: meetups, attendance, needs met"),
    examples=(
        "followup report",
        "followup report last quarter circle=gent",
        "followup report 2026 by=month csv=yes",
        "followup report last 12 months region=flanders by=region",
    ),
    visibility=Visibility.PRIVATE,
)
async def report(
    ctx: Context,
    period: Annotated[
        str | None,
        Opt(Text(100), N_("This month, last quarter, 2026, 2026-03, from … to …"), rest=True),
    ] = None,
    *,
    circle: Annotated[
        Circle | None, Opt(CircleRef(include_archived=True), N_("Only this circle"))
    ] = None,
    sector: Annotated[
        tuple[Term, ...] | None, Opt(Vocabulary("sectors", many=True), N_("Only these sectors"))
    ] = None,
    region: Annotated[
        tuple[Term, ...] | None, Opt(Vocabulary("regions", many=True), N_("Only these regions"))
    ] = None,
    by: Annotated[
        str | None, Opt(OneOf(BY), N_("Split by month, circle, sector or region"))
    ] = None,
    level: Annotated[
        int | None, Opt(Integer(0, 8), N_("Roll sectors or regions up to this depth"))
    ] = None,
    csv_file: Annotated[
        bool, Opt(Flag(), N_("Also send the figures as a CSV file"), name="csv")
    ] = False,
) -> Reply:
    sectors, regions = tuple(sector or ()), tuple(region or ())
    scope, scope_name = scope_of(ctx, circle, sectors, regions)
    when = period_of(ctx, period)
    end = min(when.end, ctx.now())
    previous = when.previous()
    breakdown = breakdown_of(ctx, by, when, sectors, regions, level)
    found = followup.report(ctx.session, scope, when.start, end, breakdown)
    before = followup.totals(ctx.session, scope, previous.start, previous.end)
    name_of_period = period_name(ctx, when)
    title = ctx.t(N_("{scope}: {period}"), scope=scope_name, period=name_of_period)
    if found.total.is_empty():
        return Reply(
            text=ctx.t(
                N_("Nothing yet for {scope} in {period}: no meetup, post or answer recorded."),
                scope=scope_name,
                period=name_of_period,
            ),
            visibility=Visibility.PRIVATE,
        )
    full = ctx.is_admin or (
        circle is not None
        and circle.id is not None
        and is_animator(ctx.session, ctx.actor_id, circle.id)
    )
    now = found.total
    rows = _rows(scope)
    fields = []
    for name, label in rows:
        value = _value(ctx, now, name, full)
        delta = _delta(ctx, now, before, name, full)
        fields.append(Field(ctx.t(label), f"{value} ({delta})" if delta else value, inline=True))
    buckets = shown_buckets(ctx, found, breakdown.by) if breakdown else None
    lines = [
        ctx.t(N_("Compared with {period}: ▲ more, ▼ fewer."), period=period_name(ctx, previous))
    ]
    if buckets is not None:
        lines.append("")
        lines.append(f"**{ctx.t(BY[breakdown.by if breakdown else 'month'])}**")
        for shown in buckets:
            parts = [
                f"{_value(ctx, shown.figures, n, shown.full)} {ctx.t(label).lower()}"
                for n, label in CHARTED
            ]
            lines.append(f"- {shown.name}: " + " · ".join(parts))
    if not full:
        lines.append(
            ctx.t(
                N_("Counts below {threshold} show as “<{threshold}”."),
                threshold=_threshold(ctx),
            )
        )
    figure = chart_of(ctx, title, now, before, when, buckets, full)
    stem = f"followup-{when.first:%Y%m%d}-{when.last:%Y%m%d}"
    attachments = [Attachment(f"{stem}.png", charts.png(figure), "image/png")]
    if csv_file:
        content = csv_of(ctx, scope, now, before, buckets, full, when)
        attachments.append(Attachment(f"{stem}.csv", content, "text/csv"))
    return Reply(
        title=title,
        text="\n".join(lines),
        fields=tuple(fields),
        attachments=tuple(attachments),
        visibility=Visibility.PRIVATE,
    )
