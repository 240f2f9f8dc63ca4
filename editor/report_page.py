"""The staff app's server-drawn pages (no Rasa imports): the editors' report with its
charts (GET /editor/report?from=2026-W40&to=2026-W47) and the go-live readiness list
(GET /editor/readiness). Every value put into the HTML is escaped.

The report page is editor/static/report.html with its charts and its list of unanswered
messages filled in: per week over the period asked for (default the last 8 weeks), the
patients' messages, the topics asked most, fallbacks and guided choices (offered, and
what was tapped), urgent answers, English and Spanish, web and SMS (editor/report_traffic.py,
from the stored conversations), each a <figure> with its <figcaption>, an SVG drawn by
matplotlib (editor/chart_svg.py) and a table of the same numbers; then the unanswered
messages of the period, newest first, each with an "Add as training example" box
(editor/static/report.js saves it at POST /editor/api/report/training).
"""

from __future__ import annotations

import html
import logging
import time as clock
from datetime import date, datetime, time, timedelta
from typing import Any, Dict, List, Sequence
from zoneinfo import ZoneInfo

from common.settings import load_settings, topic_labels
from editor import report_traffic as traffic
from editor.readiness import Blocker, summary, total

MESSAGE_LIMIT = 300
logger = logging.getLogger("hsg.content")


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _table(caption: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    head = "".join(f'<th scope="col">{_e(c)}</th>' for c in columns)
    body = "".join(
        "<tr>" + f'<th scope="row">{_e(row[0])}</th>' + "".join(f"<td>{_e(v)}</td>" for v in row[1:]) + "</tr>"
        for row in rows
    )
    return (
        f'<details class="chart-table"><summary>The numbers: {_e(caption)}</summary>'
        f"<table><caption>{_e(caption)}</caption><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></details>"
    )


def _figure(chart_id: str, caption: str, svg: str, table: str) -> str:
    return (
        f'<figure class="chart-figure" id="figure-{_e(chart_id)}" aria-labelledby="caption-{_e(chart_id)}">'
        f'<figcaption id="caption-{_e(chart_id)}">{_e(caption)}</figcaption>{svg}{table}</figure>'
    )


def _tick(label: str) -> str:
    """A week's short name under its bars: 'W48' and its Monday ('Nov 23')."""
    start = traffic.parse_week(label)
    return f"W{label.rsplit('W', 1)[1]}\n{start.strftime('%b')} {start.day}"


def _weekly_figure(
    chart_id: str, caption: str, labels: List[str], series: Dict[str, List[int]], stacked: bool, unit: str
) -> str:
    from editor.chart_svg import weekly_bars

    summary_words = "; ".join(f"{name}: {sum(values)} in all" for name, values in series.items())
    label = f"{caption}. {summary_words}. The table below has each week."
    svg = weekly_bars(chart_id, label, [_tick(week) for week in labels], series, stacked, unit)
    rows = [[label] + [values[n] for values in series.values()] for n, label in enumerate(labels)]
    return _figure(chart_id, caption, svg, _table(caption, ["week"] + list(series), rows))


def _topics_figure(weeks: Dict[date, traffic.Week], labels: List[str]) -> str:
    from editor.chart_svg import ranked_bars

    caption = "The topics asked most"
    top = traffic.top_topics(weeks)
    names = topic_labels()
    shown = [f"{(names.get(key) or {}).get('button') or key} ({key})" for key, _ in top]
    if top:
        words = "; ".join(f"{name}: {count}" for name, (_, count) in zip(shown, top))
        svg = ranked_bars("topics", f"{caption}, messages over the period. {words}.", shown, [c for _, c in top])
    else:
        svg = '<p class="hint">No topic was asked in these weeks.</p>'
    rows = [
        [name] + [week.topics.get(key, 0) for week in weeks.values()] + [count]
        for name, (key, count) in zip(shown, top)
    ]
    return _figure(
        "topics", caption, svg, _table(caption + " (messages a week)", ["topic"] + labels + ["in all"], rows)
    )


_drawn: Dict[str, str] = {}  # the charts of the latest counts (drawing them takes a second or more)


def charts(weeks: Dict[date, traffic.Week]) -> str:
    """The six figures of the report, drawn again only when a count changed."""
    key = repr(sorted(weeks.items())) + repr(sorted(topic_labels().items()))
    if key not in _drawn:
        if len(_drawn) >= 8:
            _drawn.clear()
        _drawn[key] = draw_charts(weeks)
    return _drawn[key]


def draw_charts(weeks: Dict[date, traffic.Week]) -> str:
    """The six figures of the report, in order."""
    labels = [traffic.week_label(start) for start in weeks]
    values = list(weeks.values())
    return "".join(
        [
            _weekly_figure("messages", "Messages from patients, per week", labels,
                           {"messages": [w.messages for w in values]}, False, "messages"),
            _topics_figure(weeks, labels),
            _weekly_figure("fallbacks", "Fallbacks and guided choices, per week", labels, {
                "fallback or out of scope": [w.fallbacks + w.out_of_scope for w in values],
                "guided choice offered": [w.guided_offered for w in values],
                "a topic offered tapped": [w.guided_picked for w in values],
                "Something else tapped": [w.something_else for w in values],
            }, False, "count"),
            _weekly_figure("urgent", "Urgent answers, per week", labels,
                           {"urgent answers": [w.urgent for w in values]}, False, "answers"),
            _weekly_figure("languages", "English and Spanish messages, per week", labels, {
                "English": [w.languages["English"] for w in values],
                "Spanish": [w.languages["Spanish"] for w in values],
            }, True, "messages"),
            _weekly_figure("channels", "Web chat and SMS messages, per week", labels, {
                "web chat": [w.channels["web"] for w in values],
                "SMS": [w.channels["SMS"] for w in values],
            }, True, "messages"),
        ]
    )  # fmt: skip


def _when(at: float, zone: ZoneInfo) -> str:
    return datetime.fromtimestamp(at, zone).strftime("%Y-%m-%d %H:%M")


def messages_table(rows: List[Dict[str, Any]], zone: ZoneInfo) -> str:
    """The unanswered messages, newest first, each with its "Add as training example" box."""
    if not rows:
        return '<p class="hint">No unanswered message in these weeks.</p>'
    lines = []
    for number, row in enumerate(rows):
        picked = row["picked"] or ""
        if picked and row["via"] == "list" and picked != "something else":
            picked += " (from the list)"
        box = f"train-{number}"
        checked = " checked" if row["marked_by"] else ""
        lines.append(
            f"<tr><td>{_e(_when(row['at'], zone))}</td><td>{_e(row['text'])}</td><td>{_e(row['kind'])}</td>"
            f"<td>{_e(row['topic'] or '')}</td><td>{_e(', '.join(row['offered']))}</td><td>{_e(picked)}</td>"
            f"<td>{_e('SMS' if row['channel'] == 'twilio' else 'web' if row['channel'] else '')}</td>"
            f'<td><input type="checkbox" class="train" id="{box}" data-message="{_e(row["message_id"])}"{checked}>'
            f'<label for="{box}" class="check">Add as training example</label></td></tr>'
        )
    head = "".join(
        f'<th scope="col">{title}</th>'
        for title in ("When", "What the patient wrote", "What happened", "Closest topic", "Topics offered",
                      "Picked", "Channel", "For a developer")
    )  # fmt: skip
    return (
        f'<table id="messages"><caption>Unanswered messages, newest first (at most {MESSAGE_LIMIT})</caption>'
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(lines)}</tbody></table>"
    )


def report_html(template: str, service_report: Any, query: Dict[str, str]) -> str:
    """The report page: the period form, the charts and the unanswered messages."""
    settings = load_settings()
    zone = ZoneInfo(str(settings.get("time_zone") or "UTC"))
    today = datetime.now(zone).date()
    first, last, note = traffic.period(today, query.get("from", ""), query.get("to", ""))
    try:
        weeks = traffic.weekly(first, last, str(zone))
    except Exception as error:  # e.g. a database Rasa has not set up yet: say so, never a 500
        logger.warning("The report could not read the stored conversations (%s)", type(error).__name__)
        weeks = traffic.empty_weeks(first, last)
        note = (note + " " if note else "") + "The stored conversations could not be read: see the content log."
    start = datetime.combine(first, time(), zone).timestamp()
    end = datetime.combine(last + timedelta(days=7), time(), zone).timestamp()
    rows = service_report.messages(start, end, MESSAGE_LIMIT)
    kept = (settings.get("retention") or {}).get("conversation_days", 30)
    about = (
        f"Weeks {traffic.week_label(first)} to {traffic.week_label(last)} (Monday to Sunday, {zone.key}), "
        f"from the stored conversations: only the last {kept} days are kept (make purge), so older weeks "
        f"show less. Made {datetime.fromtimestamp(clock.time(), zone).strftime('%Y-%m-%d %H:%M')}."
    )
    return (
        template.replace("{{from}}", _e(traffic.week_label(first)))
        .replace("{{to}}", _e(traffic.week_label(last)))
        .replace("{{note}}", _e(note))
        .replace("{{period}}", _e(about))
        .replace("{{charts}}", charts(weeks))
        .replace("{{messages}}", messages_table(rows, zone))
    )


def readiness_html(template: str, found: List[Blocker]) -> str:
    """The go-live list: each kind with its count, what to do and its items."""
    parts = []
    for blocker in found:
        state = "ready" if not blocker.count else f"{blocker.count} to do"
        items = "".join(f"<li>{_e(item)}</li>" for item in blocker.items)
        parts.append(
            f'<section class="blocker" id="{_e(blocker.kind)}" aria-labelledby="title-{_e(blocker.kind)}">'
            f'<h2 id="title-{_e(blocker.kind)}">{_e(blocker.title)}: {_e(state)}</h2>'
            + (f'<p class="hint">What to do: {_e(blocker.fix)}.</p><ul>{items}</ul>' if blocker.count else "")
            + "</section>"
        )
    return (
        template.replace("{{summary}}", _e(summary(found)))
        .replace("{{total}}", str(total(found)))
        .replace("{{blockers}}", "".join(parts))
    )
