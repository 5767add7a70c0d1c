"""report.html: a self-contained page of the search, its figures and the conversations still wrong."""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from detectors.tuning.conversations import LabelledConversation
from detectors.tuning.metrics import ConversationResult, Report
from detectors.tuning.search import Knob, SearchResult, describe_value
from detectors.tuning.suggestion import COLUMNS, rate

_STYLE = """
body{font:15px/1.45 system-ui,sans-serif;margin:2em auto;max-width:70em;padding:0 1em;color:#1f2933}
table{border-collapse:collapse;margin:.5em 0 1.5em}th,td{padding:.2em .7em;border-bottom:1px solid #d9e2ec;
text-align:right}th:first-child,td:first-child{text-align:left}td.text{text-align:left}
tr.chosen{background:#e3f9e5}tr.changed td{font-weight:600}img{max-width:100%}
code{background:#f0f4f8;padding:0 .2em}.bad{color:#ab091e}
"""


def report_html(
    summary: Mapping[str, Any],
    result: SearchResult,
    best_report: Report,
    conversations: Sequence[LabelledConversation],
    curve_files: Mapping[str, str],
) -> str:
    """A self-contained page; every piece of text from data goes through html.escape."""
    e = html.escape
    rows = "".join(
        f"<tr><td>{e(title)}</td><td>{rate(summary['current'][key])}</td><td>{rate(summary['best'][key])}</td></tr>"
        for title, key in (*COLUMNS, ("objective", "objective"))
    )
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>escalator tune: {e(summary['objective'])}</title><style>{_STYLE}</style></head><body>",
        f"<h1>Threshold tuning: <code>{e(summary['objective'])}</code></h1>",
        f"<p>{summary['conversations']} labelled conversations, tolerance ±{summary['tolerance']} turns; "
        f"{summary['replays']} replays in {summary['rounds']} rounds of coordinate descent, {summary['seconds']:.1f} s."
        + (
            ""
            if summary["best"]["feasible"]
            else " <strong class='bad'>No candidate meets the bound; the chosen "
            "thresholds are the nearest to it.</strong>"
        )
        + "</p>",
        "<p>Thresholds chosen on these conversations fit these conversations: confirm them on other labelled "
        "conversations (<code>escalator evaluate</code>) before adopting them.</p>",
        *(f"<p class='bad'><strong>Warning:</strong> {e(w)}</p>" for w in summary.get("warnings", ())),
        "<h2>Current vs best</h2><table><tr><th>metric</th><th>current</th><th>best</th></tr>",
        rows,
        "</table>",
        _held_out_html(summary.get("held_out")),
        "<h2>Chosen thresholds</h2>",
        _thresholds_table(result),
        "<h2>Precision-recall trade-off</h2>",
        f"<img src='{e(Path(summary['paths']['precision_recall']).name)}' alt='precision against recall of every "
        "candidate, current and chosen marked'>",
        "<h2>One threshold at a time</h2><p>Each field swept with the others held at the chosen values.</p>",
    ]
    for knob in result.knobs:
        parts.append(f"<h3><code>{e(knob.key)}</code></h3>")
        if knob.key in curve_files:
            parts.append(f"<img src='{e(curve_files[knob.key])}' alt='precision, recall and F1 against {e(knob.key)}'>")
        parts.append(_sweep_table(result, knob))
    parts.append(_wrong_section(best_report, conversations))
    parts.append("</body></html>")
    return "\n".join(parts)


def _held_out_html(held: Mapping[str, Any] | None) -> str:
    if not held:
        return "<p class='bad'>Nothing was held out: these figures are on the conversations the thresholds were fitted to.</p>"
    rows = "".join(
        f"<tr><td>{html.escape(title)}</td><td>{rate(held['current'][key])}</td><td>{rate(held['best'][key])}</td></tr>"
        for title, key in COLUMNS
    )
    return (
        f"<h2>Held out: {held['conversations']} conversations the search never saw ({html.escape(held['source'])})"
        "</h2><p>What the suggestion is worth on conversations it was not fitted to.</p>"
        "<table><tr><th>metric</th><th>current</th><th>best</th></tr>" + rows + "</table>"
    )


def _thresholds_table(result: SearchResult) -> str:
    e = html.escape
    rows = []
    for knob in result.knobs:
        old, new = knob.get(result.current.thresholds), knob.get(result.best.thresholds)
        css = " class='changed'" if old != new else ""
        arrow = f"{describe_value(old)} → {describe_value(new)}" if old != new else describe_value(new)
        rows.append(f"<tr{css}><td><code>{e(knob.key)}</code></td><td>{e(arrow)}</td></tr>")
    return "<table><tr><th>field</th><th>old → new</th></tr>" + "".join(rows) + "</table>"


def _sweep_table(result: SearchResult, knob: Knob) -> str:
    chosen = knob.get(result.best.thresholds)
    head = "".join(f"<th>{html.escape(title)}</th>" for title, _ in COLUMNS)
    rows = []
    for point in result.sweeps[knob.key]:
        css = " class='chosen'" if point.value == chosen and type(point.value) is type(chosen) else ""
        cells = "".join(f"<td>{rate(getattr(point.figures, attribute))}</td>" for _, attribute in COLUMNS)
        objective = rate(result.objective.value(point.figures)) + (
            "" if result.objective.feasible(point.figures) else " ✗"
        )
        rows.append(f"<tr{css}><td>{html.escape(describe_value(point.value))}</td>{cells}<td>{objective}</td></tr>")
    return f"<table><tr><th>value</th>{head}<th>objective</th></tr>" + "".join(rows) + "</table>"


def _wrong_section(report: Report, conversations: Sequence[LabelledConversation]) -> str:
    e = html.escape
    wrong = report.wrong
    texts = {c.id: c.customer_texts for c in conversations}
    parts = [f"<h2>Still wrong under the chosen thresholds: {len(wrong)}</h2>"]
    if not wrong:
        return parts[0] + "<p>None.</p>"
    parts.append(
        "<table><tr><th>conversation</th><th>problems</th><th>expected</th><th>got</th>"
        "<th>customer turns (scores; * fired)</th></tr>"
    )
    for result in wrong:
        outcome = result.outcome
        parts.append(
            f"<tr><td class='text'>{e(outcome.id)}</td><td class='text'>{e(', '.join(result.problems))}</td>"
            f"<td class='text'>{e(_expected_text(result))}</td><td class='text'>{e(_got_text(result))}</td>"
            f"<td class='text'><ol>{_turns_html(result, texts.get(outcome.id, ()))}</ol></td></tr>"
        )
    return "".join(parts) + "</table>"


def _expected_text(result: ConversationResult) -> str:
    expected = result.outcome.expected
    if not expected.escalate:
        return "no escalation"
    return f"turn {expected.turn} by {expected.trigger or 'any detector'}"


def _got_text(result: ConversationResult) -> str:
    outcome = result.outcome
    return f"turn {outcome.turn} by {outcome.trigger}" if outcome.escalated else "no escalation"


def _turns_html(result: ConversationResult, texts: Sequence[str]) -> str:
    outcome = result.outcome
    items = []
    for number in range(1, max(len(texts), len(outcome.scores)) + 1):
        text = texts[number - 1] if number <= len(texts) else ""
        scores = outcome.scores[number - 1] if number <= len(outcome.scores) else {}
        fired = {name for name, turns in outcome.fired.items() if number in turns}
        detail = ", ".join(f"{name} {score:.2f}{'*' if name in fired else ''}" for name, score in scores.items())
        items.append(f"<li>{html.escape(text)}<br><small>{html.escape(detail)}</small></li>")
    return "".join(items)
