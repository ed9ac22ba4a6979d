"""``revgate summary``: the daily hygiene summary in the terminal, and optionally in Slack.

CRM text (names, descriptions) goes into rich as ``Text``, never as markup: a
lead called "[bold]" prints as typed.
"""

from __future__ import annotations

import math
from datetime import date
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import typer
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from slack_sdk.errors import SlackApiError

from agent.summary import DailySummary, Tally, TrendPoint, gather_summary, local_date
from bot.blocks.summary import fallback_text
from bot.cli.common import EXIT_REFUSED, console, fail, reported_errors, services, settings
from bot.slack_client import make_web_client
from bot.summary_post import post_gathered

_SPARKS = "▁▂▃▄▅▆▇█"


def summary(
    day: Annotated[
        str | None, typer.Option("--date", metavar="YYYY-MM-DD", help="The day; default: today in --tz.")
    ] = None,
    tz: Annotated[
        str | None,
        typer.Option("--tz", metavar="AREA/CITY", help="Time zone of the day; default: REVGATE_TIMEZONE."),
    ] = None,
    post: Annotated[
        bool, typer.Option("--post", help="Also post it to Slack (--channel, else REVGATE_SUMMARY_CHANNEL).")
    ] = False,
    channel: Annotated[
        str | None, typer.Option("--channel", help="Slack channel to post to (with --post).")
    ] = None,
) -> None:
    """The daily hygiene summary: score, per-check numbers, what needs a person, model cost."""
    wanted = parse_day(day) if day is not None else None
    if channel and not post:
        fail("--channel is only used with --post")
    config = settings()
    zone = parse_zone(tz) if tz is not None else config.timezone
    if post and not channel:
        channel = ",".join(c.channel for c in config.summary_channels) or None
        if channel is None:
            fail("--post needs --channel C… or REVGATE_SUMMARY_CHANNEL (where to post)")
    with services(config) as svc:
        today = local_date(svc.clock.now(), zone)
        chosen = wanted or today
        if chosen > today:
            fail(f"{chosen.isoformat()} is after today ({today.isoformat()} in {zone.key})")
        with reported_errors():
            gathered = gather_summary(svc.database, svc.crm, svc.policy, svc.clock, day=chosen, tz=zone)
        console().print(render_summary(gathered))
        if post and channel:
            with reported_errors():
                client = make_web_client(config)
            for target in channel.split(","):
                try:
                    posted = post_gathered(client, gathered, channel=target)
                except SlackApiError as error:
                    fail(f"Slack refused the summary: {error.response.get('error')}", EXIT_REFUSED)
                chart = (
                    f", chart {posted.file_id}"
                    if posted.file_id
                    else f"; chart not uploaded: {posted.chart_error}"
                )
                console().print(
                    f"[green]posted[/] to {posted.channel} at {posted.ts}{chart}", highlight=False
                )


def parse_zone(name: str) -> ZoneInfo:
    """A time zone by IANA name; a clear error (exit 2) otherwise."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # "Europe" is a directory: IsADirectoryError
        fail(f"unknown time zone {name!r}; use an IANA name such as Europe/Berlin or UTC")


def parse_day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        fail(f"--date must be YYYY-MM-DD, not {text!r}")


def render_summary(summary: DailySummary) -> Group:
    """The summary as rich renderables, in the same order as the Slack message."""
    parts: list[RenderableType] = [
        Text(f"Data hygiene, {summary.day.isoformat()} ({summary.timezone})", style="bold"),
        _score(summary),
        Text.assemble(("Trend (30 days): ", "bold"), sparkline(summary.trend)),
        Text(""),
        _checks(summary),
        _pending(summary),
        _refused(summary),
        _tallies("By owner", summary.owners),
        _tallies("By lead source", summary.sources),
    ]
    for suggestion in summary.suggestions:
        parts.append(Text.assemble(("Suggestion: ", "bold"), suggestion.text))
    usage = summary.usage
    model = "not used"
    if usage.runs:
        model = (
            f"{', '.join(usage.models) or 'none'}, {usage.calls} call(s), tokens "
            f"{usage.input_tokens:,} in / {usage.output_tokens:,} out, about ${usage.cost_usd:.2f}"
        )
    parts.append(Text.assemble(("Model: ", "bold"), model))
    parts.append(Text(fallback_text(summary), style="dim"))
    return Group(*parts)


def sparkline(points: list[TrendPoint] | tuple[TrendPoint, ...]) -> str:
    """One character per day, low to high; a space for a day without a score."""
    scores = [p.score for p in points if p.score is not None]
    if not scores:
        return "no scores yet"
    low, high = min(scores), max(scores)
    span = high - low
    marks = []
    for point in points:
        if point.score is None:
            marks.append(" ")
            continue
        level = 0 if span == 0 else math.floor((point.score - low) / span * (len(_SPARKS) - 1))
        marks.append(_SPARKS[level])
    return f"{''.join(marks)}  ({low:.1f}-{high:.1f})"


def _score(summary: DailySummary) -> Text:
    quality = summary.quality
    if quality is None:
        return Text("Data quality: not measured that day (only today and yesterday can be).", style="yellow")
    change = summary.score_change
    moved = "no score yesterday" if change is None else f"{change:+.1f} since yesterday"
    style = "green" if quality.score >= 90 else "yellow" if quality.score >= 75 else "red"
    return Text.assemble(
        ("Data quality ", "bold"),
        (f"{quality.score:.1f} / 100", f"bold {style}"),
        f"  {moved}; {quality.records - quality.issues:,} of {quality.records:,} records have no open issue",
    )


def _checks(summary: DailySummary) -> Table:
    table = Table(title="By check (records)", title_justify="left")
    for name in ("check", "found", "Δ found", "fixed", "waiting", "approved", "rejected", "expired", "open"):
        table.add_column(name, justify="left" if name == "check" else "right")
    for line in summary.checks:
        counts, change = line.today, line.found_change
        table.add_row(
            Text(line.label),
            str(counts.found),
            "" if change is None else f"{change:+d}",
            str(counts.auto_fixed),
            str(counts.pending),
            str(counts.approved),
            str(counts.rejected),
            str(counts.expired),
            "" if line.open_issues is None else str(line.open_issues),
        )
    return table


def _pending(summary: DailySummary, limit: int = 10) -> Table:
    table = Table(title=f"Waiting for a decision ({len(summary.pending)})", title_justify="left")
    table.add_column("id", no_wrap=True)
    table.add_column("kind", no_wrap=True)
    table.add_column("expires", no_wrap=True)
    table.add_column("what", ratio=1)
    for item in summary.pending[:limit]:
        table.add_row(
            item.approval_id, item.kind, f"{item.expires_at:%Y-%m-%d %H:%M} UTC", Text(item.description)
        )
    if len(summary.pending) > limit:
        table.add_row("…", "", "", f"and {len(summary.pending) - limit} more: revgate approvals list")
    return table


def _refused(summary: DailySummary, limit: int = 10) -> Table:
    table = Table(title=f"Refused by policy, for a person ({len(summary.refused)})", title_justify="left")
    table.add_column("kind", no_wrap=True)
    table.add_column("what", ratio=1)
    table.add_column("rule")
    for item in summary.refused[:limit]:
        table.add_row(item.kind, Text(item.description), Text(item.rule))
    if len(summary.refused) > limit:
        table.add_row("…", f"and {len(summary.refused) - limit} more", "")
    return table


def _tallies(title: str, tallies: tuple[Tally, ...]) -> Text:
    listed = ", ".join(f"{t.name} {t.records}" for t in tallies) or "nothing open"
    return Text.assemble((f"Open issues {title.lower()}: ", "bold"), listed)
