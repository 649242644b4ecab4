"""The session report a person can read: HTML (images embedded, one file that stands alone), PDF or PNG.

One :class:`ReportContent` is built from the record (tables, summary, whole-session HRV) and laid out
by each renderer; the pages are drawn with matplotlib's Agg backend, so no display is needed.
"""

from __future__ import annotations

import base64
import html
import io
import textwrap
from dataclasses import dataclass
from pathlib import Path

from sessions.errors import UserError
from sessions.private_files import write_private
from sessions.review.comparison import comparison_table, resonance_table
from sessions.review.offline_hrv import OfflineHrv, nn_series, offline_hrv, poincare_pairs
from sessions.review.phase_table import PhaseRow, phase_rows, table_cells
from sessions.review import subjective
from sessions.review.record import Record
from sessions.review.summary import plain_summary
from sessions.review.timeline import draw_timeline, legend_text
from sessions.review.words import say

A4 = (8.27, 11.69)
FORMATS = (".html", ".pdf", ".png")


@dataclass
class ReportContent:
    record: Record
    lang: str
    rows: list[PhaseRow]
    summary: list[str]
    hrv: OfflineHrv
    notes: list[str]  # artefact share, gaps, damage

    @property
    def heading(self) -> str:
        return f"{say(self.lang, 'report_title')}: {self.record.title}"

    @property
    def facts(self) -> str:
        r = self.record
        started = r.started.strftime("%Y-%m-%d %H:%M") if r.started else "?"
        return (f"{say(self.lang, 'started')} {started} · {say(self.lang, 'duration')} {r.duration_s / 60:.1f} min · "
                f"{say(self.lang, 'source')} {source_word(r.summary.source, self.lang)} · {r.id}")


def source_word(source: str, lang: str) -> str:
    """The record's source kind as a person reads it in their language (the raw kind for unknown ones)."""
    word = say(lang, f"source_{source}")
    return source if word == f"source_{source}" else word


def build_content(record: Record, lang: str | None = None) -> ReportContent:
    lang = lang or record.language
    rows = phase_rows(record)
    notes = []
    labelled = int((record.labels != "").sum())
    if labelled:
        n = int(record.artefact_mask.sum())
        notes.append(say(lang, "artefact_share", n=n, total=labelled, pct=100.0 * n / labelled))
    gaps = record.link_gaps()
    if gaps:
        notes.append(say(lang, "gaps_one" if len(gaps) == 1 else "gaps", n=len(gaps), s=sum(b - a for a, b in gaps)))
    irregular = record.irregular_stretches()
    if irregular:
        times = say(lang, "times_one") if len(irregular) == 1 else say(lang, "times_n", n=len(irregular))
        notes.append(say(lang, "irregular", times=times, m=sum(b - a for a, b in irregular) / 60.0))
    if record.problems is not None:
        notes.append(say(lang, "damaged", what="; ".join(record.problems)))
    elif "ended_at" not in record.meta:
        notes.append(say(lang, "unfinished"))
    return ReportContent(record, lang, rows, plain_summary(record, rows, lang), offline_hrv(record), notes)


# --- matplotlib pages -----------------------------------------------------------------------------

def _figure(size=A4):
    from matplotlib.figure import Figure

    return Figure(figsize=size, dpi=100)


def _wrapped(fig, x: float, y: float, lines: list[str], *, width: int = 100, size: float = 9, **kw) -> float:
    """Writes wrapped paragraphs downward from y (figure fraction); returns the y below them."""
    step = size / 72 / fig.get_figheight() * 1.45
    for line in lines:
        for part in textwrap.wrap(line, width) or [""]:
            fig.text(x, y, part, fontsize=size, va="top", **kw)
            y -= step
        y -= step * 0.3
    return y


def _table(fig, rect, header: list[str], body: list[list[str]], size: float = 7, left: tuple[int, ...] = ()) -> None:
    ax = fig.add_axes(rect)
    ax.axis("off")
    if not body:
        return
    header = [h.replace(" (", "\n(").replace("vs. ", "vs.\n").replace("t.o.v. ", "t.o.v.\n") for h in header]
    t = ax.table(cellText=body, colLabels=header, cellLoc="right", colLoc="right", bbox=(0, 0, 1, 1))
    t.auto_set_font_size(False)
    t.set_fontsize(size)
    # each column as wide as its longest line (plus room), so a long phase name is never cut
    longest = [max(len(line) for text in [header[c]] + [r[c] for r in body] for line in text.split("\n")) + 2
               for c in range(len(header))]
    for (_row, col), cell in t.get_celld().items():
        cell.set_width(longest[col] / sum(longest))
    for (row, col), cell in t.get_celld().items():
        cell.set_linewidth(0.3)
        if row == 0:
            cell.set_facecolor("#eaf2f8")
            cell.set_height(cell.get_height() * 1.8)
        if col == 0 or col in left:
            cell.get_text().set_horizontalalignment("left")


def page_one(content: ReportContent):
    lang = content.lang
    fig = _figure()
    fig.text(0.06, 0.975, content.heading, fontsize=15, weight="bold", va="top")
    fig.text(0.06, 0.945, content.facts, fontsize=8, color="#555555", va="top")
    fig.text(0.06, 0.92, say(lang, "summary"), fontsize=11, weight="bold", va="top")
    y = _wrapped(fig, 0.06, 0.895, content.summary, width=105, size=9)
    bottom = 0.105
    subjective.draw_markers(draw_timeline(fig, content.record, lang, rect=(0.1, bottom + 0.04, 0.86, y - bottom - 0.07)),
                            content.record)
    _wrapped(fig, 0.06, bottom, [legend_text(lang)], width=150, size=6.5, color="#34495e")
    _wrapped(fig, 0.06, 0.045, [say(lang, "what_not")], width=140, size=6.5, color="#555555")
    return fig


def page_two(content: ReportContent):
    lang = content.lang
    fig = _figure()
    fig.text(0.06, 0.975, say(lang, "phases"), fontsize=12, weight="bold", va="top")
    fig.text(0.06, 0.95, say(lang, "per_phase_note"), fontsize=7.5, color="#555555", va="top")
    header, body = table_cells(content.rows, lang)
    h = min(0.45, 0.022 * (len(body) + 2))
    _table(fig, (0.04, 0.935 - h, 0.92, h), header, body, size=6.5)
    y = 0.92 - h - 0.02
    fig.text(0.06, y, say(lang, "artefacts"), fontsize=12, weight="bold", va="top")
    y = _wrapped(fig, 0.06, y - 0.028, content.notes or ["–"], width=110, size=8.5)
    fig.text(0.06, y - 0.01, say(lang, "hrv_full"), fontsize=12, weight="bold", va="top")
    y = _wrapped(fig, 0.06, y - 0.038, [say(lang, "hrv_method"), say(lang, "nn_used", nn=content.hrv.nn)],
                 width=120, size=7.5, color="#555555")
    rows = content.hrv.rows()
    if rows:
        groups = {"time": say(lang, "time_domain"), "frequency": say(lang, "freq_domain"), "nonlinear": say(lang, "nonlinear")}
        body = [[groups[g] if i == 0 or rows[i - 1][0] != g else "", name, value] for i, (g, name, value) in enumerate(rows)]
        h = min(y - 0.1, 0.019 * (len(body) + 1))
        _table(fig, (0.15, y - 0.01 - h, 0.6, h), ["", say(lang, "metric"), say(lang, "value")], body, size=7.5)
    else:
        _wrapped(fig, 0.06, y - 0.01, [say(lang, "hrv_too_short")], size=8.5)
    _wrapped(fig, 0.06, 0.045, [say(lang, "what_not")], width=140, size=6.5, color="#555555")
    return fig


def _png_bytes(fig, dpi: int = 100) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return buf.getvalue()


def draw_analysis(fig, content: ReportContent, rect=(0.08, 0.08, 0.86, 0.8)) -> list:
    """The beats in detail, as Kubios shows them: RR tachogram (ms), power spectrum with the VLF/LF/HF bands
    and their peaks, Poincaré plot with SD1/SD2, RR histogram with the triangular index."""
    import numpy as np

    from biofeedback.spectral import HF_BAND, LF_BAND, VLF_BAND, spectrum

    lang, rec, hrv = content.lang, content.record, content.hrv
    m = hrv.metrics or {}
    left, bottom, width, height = rect
    space = 0.075
    h = (height - 2 * space) / 3
    tacho = fig.add_axes((left, bottom + 2 * (h + space), width, h))
    psd_ax = fig.add_axes((left, bottom + h + space, width * 0.55, h))
    poin = fig.add_axes((left + width * 0.68, bottom + h + space, width * 0.32, h))
    hist = fig.add_axes((left, bottom, width * 0.55, h))
    nn, t = nn_series(rec)
    art = rec.artefact_mask
    tacho.plot(t / 60, nn, lw=0.6, color="#2e86c1")
    if art.any():
        tacho.plot(rec.beat_t[art] / 60, np.clip(rec.rr_ms[art], *tacho.get_ylim()), "x", ms=3, color="#000000", mew=0.6)
    tacho.set_title(say(lang, "tachogram"), fontsize=8, loc="left")
    tacho.set_xlabel(say(lang, "time_min"), fontsize=7)
    tacho.set_ylabel("RR (ms)", fontsize=7)
    sp = spectrum(t, nn) if len(nn) >= 8 else None
    if sp is not None:
        keep = sp.freqs <= 0.5
        psd_ax.plot(sp.freqs[keep], sp.psd[keep], color="#34495e", lw=0.8)
        for band, colour, name in ((VLF_BAND, "#d5dbdb", "VLF"), (LF_BAND, "#f5cba7", "LF"), (HF_BAND, "#aed6f1", "HF")):
            b = (sp.freqs >= band[0]) & (sp.freqs < band[1])
            psd_ax.fill_between(sp.freqs[b], sp.psd[b], color=colour, lw=0)
            peak = m.get(f"{name.lower()}_peak_hz")
            label = name if name == "VLF" else f"{name} {m.get(f'{name.lower()}_nu', float('nan')):.0f} n.u."
            psd_ax.text((band[0] + band[1]) / 2, 0.97, label, transform=psd_ax.get_xaxis_transform(), ha="center",
                        va="top", fontsize=6)
            if peak is not None and np.isfinite(peak):
                psd_ax.axvline(peak, color="#c0392b", lw=0.7, ls="--")
                psd_ax.text(peak, 0.84, f"{peak:.3f} Hz", transform=psd_ax.get_xaxis_transform(), ha="left",
                            va="top", fontsize=5.5, color="#c0392b")
        psd_ax.set_xlim(0, 0.5)
        above_vlf = sp.freqs >= LF_BAND[0]
        top = float(sp.psd[above_vlf & keep].max()) if (above_vlf & keep).any() else 0.0
        if top > 0:  # scaled to LF and HF; a large VLF peak at 0 Hz runs off the top
            psd_ax.set_ylim(0, top * 1.35)
    psd_ax.set_title(say(lang, "psd"), fontsize=8, loc="left")
    psd_ax.set_xlabel(say(lang, "frequency_hz"), fontsize=7)
    psd_ax.set_ylabel("ms²/Hz", fontsize=7)
    x, y = poincare_pairs(rec)
    poin.plot(x, y, ".", ms=1.2, color="#2e86c1", alpha=0.5)
    sd1, sd2 = m.get("sd1_ms"), m.get("sd2_ms")
    if len(x) and sd1 is not None and sd2 is not None:
        c = float(np.mean(np.concatenate((x, y))))
        from matplotlib.patches import Ellipse

        poin.add_patch(Ellipse((c, c), 2 * sd2, 2 * sd1, angle=45, fill=False, color="#c0392b", lw=0.8))
        poin.set_title(f"Poincaré: SD1 {sd1:.0f} ms, SD2 {sd2:.0f} ms", fontsize=8, loc="left")
        lo, hi = np.percentile(np.concatenate((x, y)), [0.5, 99.5])
        poin.set_xlim(lo - 20, hi + 20)
        poin.set_ylim(lo - 20, hi + 20)
    poin.set_aspect("equal", adjustable="box")
    poin.set_xlabel("RRₙ (ms)", fontsize=7)
    poin.set_ylabel("RRₙ₊₁ (ms)", fontsize=7)
    if len(nn):
        hist.hist(nn, bins=np.arange(nn.min() - 7.8125 / 2, nn.max() + 7.8125, 7.8125), color="#85c1e9", lw=0)
    tri = m.get("tri_index")
    hist.set_title(say(lang, "rr_histogram", tri=tri if tri is not None else float("nan")), fontsize=8, loc="left")
    hist.set_xlabel("RR (ms)", fontsize=7)
    hist.set_ylabel(say(lang, "beats"), fontsize=7)
    for ax in (tacho, psd_ax, poin, hist):
        ax.tick_params(labelsize=6.5)
        ax.grid(alpha=0.3, lw=0.5)
    hr = [m.get(k) for k in ("mean_hr_bpm", "min_hr_bpm", "max_hr_bpm")]
    if all(v is not None for v in hr):
        fig.text(left + width * 0.62, bottom + h * 0.6, say(lang, "hr_range", mean=hr[0], lo=hr[1], hi=hr[2]),
                 fontsize=8, va="top")
    return [tacho, psd_ax, poin, hist]


def page_three(content: ReportContent):
    fig = _figure()
    fig.text(0.06, 0.975, say(content.lang, "analysis"), fontsize=12, weight="bold", va="top")
    if content.hrv.metrics:
        draw_analysis(fig, content, rect=(0.1, 0.1, 0.84, 0.8))
    else:
        _wrapped(fig, 0.06, 0.94, [say(content.lang, "hrv_too_short")], size=8.5)
    _wrapped(fig, 0.06, 0.045, [say(content.lang, "what_not")], width=140, size=6.5, color="#555555")
    return fig


def _sections(content: ReportContent) -> list[tuple[str, str, tuple[list[str], list[list[str]]] | None, list[str]]]:
    """(title, note, table or None, paragraphs) for the comparison and resonance tables and the person's side
    (ratings, what came up, markers, the therapist's notes); only those the session has."""
    lang, record = content.lang, content.record
    out: list[tuple[str, str, tuple[list[str], list[list[str]]] | None, list[str]]] = []
    for key, note, got in (("cmp_title", "cmp_note", comparison_table(record, lang)),
                           ("res_title", "res_note", resonance_table(record, lang))):
        if got is not None:
            out.append((say(lang, key), say(lang, note), got, []))
    rated, said = subjective.ratings_table(record, lang), subjective.came_up(record)
    if rated is not None:
        extra = [f"{subjective.word(lang, 'came_up')}: {said}"] if said else []
        out.append((subjective.word(lang, "ratings_title"), subjective.word(lang, "ratings_note"), rated, extra))
    marked = subjective.markers_table(record, lang)
    if marked is not None:
        out.append((subjective.word(lang, "markers_title"), subjective.word(lang, "markers_note"), marked, []))
    notes = subjective.notes(record)
    if notes:
        out.append((subjective.word(lang, "notes_title"), "", None, [f"{when[:16].replace('T', ' ')}: {text}"
                                                                    for when, text in notes]))
    return out


PAGE_TOP, PAGE_BOTTOM = 0.975, 0.085
"""Where the flowing pages' content starts and must end (figure fractions; the footer sits below)."""
ROW_H = 0.026
"""One table row on a flowing page; a table takes two more for its header."""


def _line_step(size: float) -> float:
    """The height of one line of text of ``size`` points on an A4 page (as :func:`_wrapped` steps)."""
    return size / 72 / A4[1] * 1.45


class _PageFlow:
    """Sections laid out downward, page after page: a table too long for the page goes on with its header
    on the next (titled "… (continued)"), so thirty markers or long notes never run past the footer."""

    def __init__(self, lang: str) -> None:
        self.lang = lang
        self.pages: list = []
        self.fig = self._add_page()
        self.y = PAGE_TOP

    def _add_page(self):
        fig = _figure()
        _wrapped(fig, 0.06, 0.045, [say(self.lang, "what_not")], width=140, size=6.5, color="#555555")
        self.pages.append(fig)
        return fig

    def _new_page(self) -> None:
        self.fig = self._add_page()
        self.y = PAGE_TOP

    def _room(self, h: float) -> bool:
        return self.y - h >= PAGE_BOTTOM

    def _title(self, title: str) -> None:
        self.fig.text(0.06, self.y, title, fontsize=12, weight="bold", va="top")
        self.y -= 0.03

    def _continue(self, title: str) -> None:
        self._new_page()
        self._title(subjective.word(self.lang, "continued", title=title))

    def section(self, title: str, note: str, table: tuple[list[str], list[list[str]]] | None,
                paragraphs: list[str]) -> None:
        note_lines = textwrap.wrap(note, 120) if note else []
        head = 0.03 + len(note_lines) * _line_step(7.5) * 1.0 + (_line_step(7.5) * 0.3 if note_lines else 0.0)
        first = ROW_H * (min(len(table[1]), 3) + 2) + 0.04 if table is not None else _line_step(8.5) * 2
        if not self._room(head + first) and self.y < PAGE_TOP:
            self._new_page()  # a title never stands alone at the foot of a page
        self._title(title)
        if note_lines:
            self.y = _wrapped(self.fig, 0.06, self.y + 0.002, [note], width=120, size=7.5, color="#555555")
        if table is not None:
            self._table(title, *table)
        for paragraph in paragraphs:
            self._paragraph(title, paragraph)
        self.y -= 0.03

    def _table(self, title: str, header: list[str], body: list[list[str]]) -> None:
        rows = list(body)
        while rows:
            fit = int((self.y - 0.01 - PAGE_BOTTOM) / ROW_H) - 2
            if fit < min(2, len(rows)):
                self._continue(title)
                continue
            chunk, rows = rows[:fit], rows[fit:]
            if len(rows) == 1 and len(chunk) > 2:  # no single row left over on the next page
                chunk, rows = chunk[:-1], chunk[-1:] + rows
            h = ROW_H * (len(chunk) + 2)
            _table(self.fig, (0.04, self.y - 0.01 - h, 0.92, h), header, chunk, size=7, left=_word_columns(body))
            self.y -= h + 0.03
            if rows:
                self._continue(title)

    def _paragraph(self, title: str, paragraph: str) -> None:
        step = _line_step(8.5)
        for line in [part for given in paragraph.splitlines() for part in textwrap.wrap(given, 110)] or [""]:
            if not self._room(step):
                self._continue(title)
            self.fig.text(0.06, self.y, line, fontsize=8.5, va="top")
            self.y -= step
        self.y -= step * 0.3


def _word_columns(body: list[list[str]]) -> tuple[int, ...]:
    """Columns mostly of words (a marker's step, label, who): read from the left like text, not like numbers."""
    if not body:
        return ()
    return tuple(c for c in range(len(body[0]))
                 if sum(any(ch.isalpha() for ch in row[c]) for row in body) * 2 > len(body))


def comparison_pages(content: ReportContent) -> list:
    """The quiet start against the practice and its end, the resonance assessment per rate, and the person's
    side (ratings, markers, the therapist's notes), on as many pages as they need; none when the session
    has none of them."""
    sections = _sections(content)
    if not sections:
        return []
    flow = _PageFlow(content.lang)
    for title, note, table, paragraphs in sections:
        flow.section(title, note, table, paragraphs)
    return flow.pages


def _pages(content: ReportContent) -> list:
    return [page_one(content), page_two(content), *comparison_pages(content), page_three(content)]


def _html_tables(content: ReportContent) -> str:
    """The comparison, resonance and the person's side as HTML sections (empty when the session has none)."""
    e, out = html.escape, []
    for title, note, table, paragraphs in _sections(content):
        out.append(f"<h2>{e(title)}</h2>")
        if note:
            out.append(f"<p class=\"note\">{e(note)}</p>")
        if table is not None:
            header, body = table
            rows = "<tr>" + "".join(f"<th>{e(h)}</th>" for h in header) + "</tr>" + "".join(
                "<tr>" + "".join(f"<td>{e(c)}</td>" for c in row) + "</tr>" for row in body)
            out.append(f"<div class=\"scroll\"><table>{rows}</table></div>")
        out.extend(f"<p>{e(p)}</p>" for p in paragraphs)
    return "\n".join(out)


# --- renderers ------------------------------------------------------------------------------------

def render_pdf(content: ReportContent, path: Path) -> list[Path]:
    from matplotlib.backends.backend_pdf import PdfPages

    buf = io.BytesIO()
    with PdfPages(buf) as pdf:
        for fig in _pages(content):
            pdf.savefig(fig)
        info = pdf.infodict()
        info["Title"] = content.heading
    write_private(path, buf.getvalue())
    return [path]


def render_png(content: ReportContent, path: Path) -> list[Path]:
    """One PNG per page: FILE.png, then FILE-2.png and FILE-3.png."""
    out = []
    for i, fig in enumerate(_pages(content)):
        target = path if i == 0 else path.with_name(f"{path.stem}-{i + 1}{path.suffix}")
        write_private(target, _png_bytes(fig, dpi=110))
        out.append(target)
    return out


def render_html(content: ReportContent, path: Path) -> list[Path]:
    lang, e = content.lang, html.escape
    fig = _figure((10, 7.5))
    subjective.draw_markers(draw_timeline(fig, content.record, lang, rect=(0.08, 0.07, 0.9, 0.86)), content.record)
    image = base64.b64encode(_png_bytes(fig, dpi=110)).decode("ascii")
    analysis = ""
    if content.hrv.metrics:
        detail = _figure((10, 10))
        draw_analysis(detail, content, rect=(0.08, 0.06, 0.88, 0.9))
        analysis = (f"<h2>{e(say(lang, 'analysis'))}</h2>\n<img alt=\"{e(say(lang, 'analysis'))}\" "
                    f"src=\"data:image/png;base64,{base64.b64encode(_png_bytes(detail, dpi=100)).decode('ascii')}\">")
    header, body = table_cells(content.rows, lang)
    phase_html = "<tr>" + "".join(f"<th>{e(h)}</th>" for h in header) + "</tr>" + "".join(
        "<tr>" + "".join(f"<td>{e(c)}</td>" for c in row) + "</tr>" for row in body)
    groups = {"time": say(lang, "time_domain"), "frequency": say(lang, "freq_domain"), "nonlinear": say(lang, "nonlinear")}
    hrv_rows = content.hrv.rows()
    hrv_html = ('<div class="scroll"><table><tr><th></th><th>' + e(say(lang, "metric")) + "</th><th>"
                + e(say(lang, "value")) + "</th></tr>"
                + "".join(f"<tr><td>{e(groups[g])}</td><td>{e(n)}</td><td>{e(v)}</td></tr>" for g, n, v in hrv_rows)
                + "</table></div>") if hrv_rows else f"<p>{e(say(lang, 'hrv_too_short'))}</p>"
    doc = f"""<!DOCTYPE html>
<html lang="{lang}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>{e(content.heading)}</title>
<style>
body {{ font-family: system-ui, sans-serif; max-width: 60em; margin: 2em auto; padding: 0 1em; color: #222; line-height: 1.45; }}
h1 {{ font-size: 1.6em; margin-bottom: 0.1em; }} .facts, .note {{ color: #555; font-size: 0.9em; }}
table {{ border-collapse: collapse; font-size: 0.9em; margin: 0.5em 0; }}
td, th {{ border: 1px solid #ccc; padding: 0.2em 0.5em; text-align: right; }}
td:first-child, th:first-child {{ text-align: left; }} th {{ background: #eaf2f8; }}
.summary li {{ margin: 0.3em 0; }} .what-not {{ border-left: 4px solid #aab7b8; padding: 0.5em 1em; background: #f4f6f7; }}
img {{ max-width: 100%; height: auto; }}
.scroll {{ overflow-x: auto; max-width: 100%; }}
@media (max-width: 600px) {{ body {{ margin: 0.5em auto; padding: 0 0.5em; }} h1 {{ font-size: 1.3em; }}
  table {{ font-size: 0.8em; }} }}
</style></head><body>
<h1>{e(content.heading)}</h1>
<p class="facts">{e(content.facts)}</p>
<h2>{e(say(lang, 'summary'))}</h2>
<ul class="summary">{''.join(f'<li>{e(s)}</li>' for s in content.summary)}</ul>
<p class="what-not">{e(say(lang, 'what_not'))}</p>
<h2>{e(say(lang, 'timeline'))}</h2>
<img alt="{e(say(lang, 'timeline'))}" src="data:image/png;base64,{image}">
<p class="note">{e(legend_text(lang))}</p>
<h2>{e(say(lang, 'phases'))}</h2>
<p class="note">{e(say(lang, 'per_phase_note'))}</p>
<div class="scroll"><table>{phase_html}</table></div>
{_html_tables(content)}
<h2>{e(say(lang, 'artefacts'))}</h2>
{''.join(f'<p>{e(n)}</p>' for n in content.notes) or '<p>–</p>'}
<h2>{e(say(lang, 'hrv_full'))}</h2>
<p class="note">{e(say(lang, 'hrv_method'))} {e(say(lang, 'nn_used', nn=content.hrv.nn))}</p>
{hrv_html}
{analysis}
</body></html>
"""
    write_private(path, doc.encode("utf-8"))
    return [path]


def write_report(record: Record, path: Path, lang: str | None = None) -> list[Path]:
    """Writes the report in the format the file name asks for; returns the files written."""
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise UserError(f"{path.name}: the report can be written as .html, .pdf or .png.")
    if not path.parent.exists():
        raise UserError(f"{path.parent}: no such folder.")
    content = build_content(record, lang)
    return {".html": render_html, ".pdf": render_pdf, ".png": render_png}[suffix](content, path)
