"""The evaluator's own words (``narrative.md``): what they are and where each part goes in the report.

The file is Markdown with ``## `` parts, routed by a keyword of their heading (the first that
matches wins; a part with none of them goes to 四（一）, as does text before any heading):

- ``经验`` → 四（一）主要经验及做法;
- ``综合评价`` or ``评价结论`` → 三, the evaluator's overall judgement after the score;
- ``问题`` → 四（二）: paragraphs before the first ``### `` open the section; each ``### 标题``
  is a problem the evaluator writes (:class:`NarrativeProblem`);
- ``建议`` → 五, general recommendations after those tied to problems.

A problem block::

    ### 部分绩效目标值设定偏高，个别指标口径不清
    发现：target_unrealistic、indicator_not_collected、indicator_unmet:new_urban_jobs

    (optional paragraphs describing the problem: printed before the evidence)

    #### 原因分析
    (paragraphs)

    #### 建议
    (first paragraph: the recommendation's heading in 五; then its paragraphs; “(1) …” lines
    stay numbered)

``发现：`` names the findings the problem explains: a finding code (all its findings), a finding
id ``code:subject`` (one finding, which takes precedence over a code), or a problem category of
``causes.yaml`` (all the findings that category collects). A block without ``发现：`` whose
heading is a generated problem's heading attaches its text to that problem; any other block is a
problem the data cannot see, printed as the evaluator wrote it.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any

from pipeline.report.blocks import Paragraph

EVALUATOR = "evaluator"  # the origin of every block written from this file

PARTS = (
    ("经验", "experience"),
    ("综合评价", "overall"),
    ("评价结论", "overall"),
    ("问题", "problems"),
    ("建议", "recommendations"),
)
SELECTORS = re.compile(r"^(?:发现|findings)\s*[：:]\s*(?P<list>.*)$", re.I)
_NUMBERED = re.compile(r"^(\d+[.、．]|[（(]\d+[)）])\s*")
_BULLET = re.compile(r"^[-*•]\s+")


@dataclasses.dataclass(frozen=True)
class NarrativeProblem:
    """A problem as the evaluator writes it in 四（二）."""

    heading: str
    selectors: tuple[str, ...]
    description: tuple[Paragraph, ...]
    analysis: tuple[Paragraph, ...]  # 原因分析
    recommendation: tuple[Paragraph, ...]  # 建议: the first block is its heading in 五


@dataclasses.dataclass(frozen=True)
class Narrative:
    experience: tuple[Paragraph, ...] = ()
    overall: tuple[Paragraph, ...] = ()
    problems_intro: tuple[Paragraph, ...] = ()
    problems: tuple[NarrativeProblem, ...] = ()
    recommendations: tuple[Paragraph, ...] = ()


def parse(text: str) -> Narrative:
    """Split the evaluator's text into the report's parts (see the module docstring)."""
    parts: dict[str, list[str]] = {part: [] for _, part in PARTS}
    current = "experience"
    for line in text.splitlines():
        if line.startswith("## "):
            title = line[3:]
            current = next((part for key, part in PARTS if key in title), "experience")
            parts[current].append("")  # a heading ends the paragraph before it
        else:
            parts[current].append(line)
    intro, problems = _problem_blocks(parts["problems"])
    return Narrative(
        experience=tuple(blocks(parts["experience"])),
        overall=tuple(blocks(parts["overall"])),
        problems_intro=tuple(intro),
        problems=tuple(problems),
        recommendations=tuple(blocks(parts["recommendations"])),
    )


def _problem_blocks(lines: list[str]) -> tuple[list[Paragraph], list[NarrativeProblem]]:
    intro: list[str] = []
    found: list[dict[str, Any]] = []
    for line in lines:
        stripped = line.strip()
        if line.startswith("### "):
            found.append(
                {
                    "heading": _clean(_NUMBERED.sub("", line[4:].strip())),
                    "selectors": [],
                    "description": [],
                    "analysis": [],
                    "recommendation": [],
                    "at": "description",
                }
            )
        elif not found:
            intro.append(line)
        elif line.startswith("#### "):
            title = line[5:]
            found[-1]["at"] = "recommendation" if "建议" in title else "analysis" if "原因" in title else "description"
            found[-1][found[-1]["at"]].append("")
        elif selectors := SELECTORS.match(stripped):
            listed = selectors["list"]
            found[-1]["selectors"] += [s.strip() for s in re.split(r"[、,，;；\s]+", listed) if s.strip()]
        else:
            found[-1][found[-1]["at"]].append(line)
    problems = [
        NarrativeProblem(
            f["heading"],
            tuple(f["selectors"]),
            tuple(blocks(f["description"])),
            tuple(blocks(f["analysis"])),
            tuple(blocks(f["recommendation"])),
        )
        for f in found
    ]
    return blocks(intro), problems


def _clean(text: str) -> str:
    return text.replace("**", "").strip()


def blocks(lines: list[str]) -> list[Paragraph]:
    """Paragraphs of hard-wrapped lines; numbered lines (“1. ”, “(1)”) and bullets keep their style."""
    out: list[Paragraph] = []
    buffer: list[str] = []
    style = "body"

    def flush() -> None:
        if buffer:
            joined = ""
            for part in buffer:
                # Hard-wrapped Chinese joins without a space; wrapped Latin text keeps one.
                joined += part if not joined or not joined[-1].isascii() else " " + part
            out.append(Paragraph(_clean(joined), style, EVALUATOR))
            buffer.clear()

    for raw in lines:
        line = raw.strip()
        if not line:
            flush()
            style = "body"
        elif line.startswith("### "):
            flush()
            out.append(Paragraph(_clean(line[4:]), "numbered", EVALUATOR))
        elif _NUMBERED.match(line) or _BULLET.match(line):
            flush()
            style = "numbered" if _NUMBERED.match(line) else "bullet"
            buffer.append(_BULLET.sub("", line))
        else:
            buffer.append(line)
    flush()
    return out
