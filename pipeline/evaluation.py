"""Evaluation folders: discovery and the metadata file (``evaluation.yaml``) that defines one.

An evaluation is a direct child of the raw root holding ``evaluation.yaml``; the folder's name
is its id. Submissions sit in ``bureau/<department>/``, ``county/`` and ``evaluator/``; every
other file in the folder is configuration (metadata, frameworks, narrative, history, README).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import hashlib
import re
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline import yamlio
from pipeline.config import Department, EvaluationConfig, Settings, parse_evaluation

if TYPE_CHECKING:
    from pipeline.limits import Limits
    from pipeline.scoring.framework import Framework

METADATA_FILE = "evaluation.yaml"
SUBMISSION_DIRS = ("bureau", "county", "evaluator")
# Names under the output root that are not evaluations: the portfolio view and the alert files.
PORTFOLIO_ID = "portfolio"
RESERVED_IDS = frozenset({PORTFOLIO_ID, "alerts"})
# An evaluation id is a folder name that is also safe as an output folder, a partition key and a run tag.
VALID_ID = re.compile(r"^[0-9A-Za-z\u4e00-\u9fff][0-9A-Za-z\u4e00-\u9fff._-]{0,99}$")


class EvaluationError(ValueError):
    """The evaluation's configuration is unusable; the message names the file and the fix."""


@dataclasses.dataclass(frozen=True)
class Evaluation:
    """An evaluation folder and its validated configuration (:class:`pipeline.config.EvaluationConfig`)."""

    id: str
    folder: Path
    config: EvaluationConfig

    @property
    def title(self) -> str:
        return self.config.title

    @functools.cached_property
    def sources(self) -> dict[str, str]:
        """Funding source code → label, in the order the metadata lists them."""
        return {s.code: s.label for s in self.config.sources}

    @functools.cached_property
    def counties(self) -> dict[str, str]:
        return {c.code: c.name for c in self.config.counties}

    @property
    def city_code(self) -> str:
        return self.config.city.code

    @property
    def city_name(self) -> str:
        return self.config.city.name

    @property
    def county_source(self) -> str:
        return self.config.county_source

    @property
    def departments(self) -> list[Department]:
        return self.config.departments

    @property
    def period_start(self) -> dt.date:
        return self.config.programme_period.start

    @property
    def cutoff(self) -> dt.date:
        return self.config.programme_period.cutoff

    @property
    def monitoring_cutoff(self) -> dt.date | None:
        """The in-year monitoring cut-off (``monitoring: cutoff:``); None for an after-the-year evaluation."""
        return self.config.monitoring.cutoff if self.config.monitoring else None

    @property
    def programme_id(self) -> str:
        """The programme the folder belongs to (``programme_id``), by default the folder's own id."""
        return self.config.programme_id or self.id

    @property
    def settings(self) -> Settings:
        return self.config.settings

    @property
    def limits(self) -> Limits:
        """Resource limits for reading this evaluation's submissions (``settings: limits:``)."""
        return self.config.settings.limits

    @property
    def primary_framework(self) -> str:
        return self.config.primary_framework

    @property
    def framework_names(self) -> list[str]:
        """The primary framework first, then the others the metadata lists."""
        return self.config.framework_names

    @functools.cached_property
    def frameworks(self) -> dict[str, Framework]:
        """Every framework the evaluation names, loaded and checked (``frameworks/<name>.yaml``)."""
        from pipeline.scoring.framework import FrameworkError, load_frameworks

        try:
            return load_frameworks(self.folder, self.framework_names)
        except FrameworkError as exc:
            raise EvaluationError(str(exc)) from exc

    @property
    def indicator_codes(self) -> list[str]:
        """Every indicator code of every framework the evaluation uses (submissions may name any)."""
        return list(dict.fromkeys(code for fw in self.frameworks.values() for code in fw.codes))

    def config_files(self) -> list[Path]:
        """Every configuration file of the evaluation (not submissions), sorted; links are not followed."""
        from pipeline.files import walk

        return [e.path for e in walk(self.folder) if e.kind == "file" and e.rel[0] not in SUBMISSION_DIRS]

    def config_hash(self, hashes: Mapping[str, str] | None = None) -> str:
        """SHA-256 over the configuration files' relative paths and contents (``hashes``: theirs, if taken)."""
        from pipeline.files import sha256_file

        h = hashlib.sha256()
        for p in self.config_files():
            rel = p.relative_to(self.folder).as_posix()
            h.update(rel.encode() + b"\0")
            h.update(bytes.fromhex(hashes[rel] if hashes and rel in hashes else sha256_file(p)))
        return h.hexdigest()

    def expected_submissions(self) -> list[tuple[str, str, str]]:
        """(submitter type, submitter code, kind) for every submission the metadata expects."""
        from pipeline.contract import COUNTY_KINDS

        out = [("bureau", d.code, kind) for d in self.departments for kind in d.submits]
        out += [("county", c, k.name) for c in self.counties for k in COUNTY_KINDS]
        out += [("evaluator", "evaluator", kind) for kind in self.config.evaluator_submits]
        return out

    @functools.cached_property
    def submitter_names(self) -> dict[str, str]:
        names = {**self.counties, self.city_code: self.city_name, "evaluator": "评价机构"}
        names.update({d.code: d.name for d in self.departments})
        return names

    def submitter_name(self, code: str) -> str:
        return self.submitter_names.get(code, code)


def check_id(evaluation_id: str, where: Path | str) -> None:
    """An evaluation id must be a plain folder name (no path), not reserved; else :class:`EvaluationError`."""
    if evaluation_id in RESERVED_IDS:
        raise EvaluationError(
            f"{where}: 评价编号“{evaluation_id}”为保留名称（{'、'.join(sorted(RESERVED_IDS))}），"
            "请给评价目录换一个名称 / reserved id"
        )
    if not VALID_ID.match(evaluation_id) or evaluation_id.startswith("."):
        raise EvaluationError(
            f"{where}: 评价编号“{evaluation_id}”只能含字母、数字、汉字、“.”“-”“_”，且不能以点开头 / "
            "an evaluation id is a plain folder name"
        )


# Loaded evaluations by folder and the state of their configuration files: every step of a run asks for its
# evaluation, and a national evaluation.yaml (2,850 counties) takes about half a second to parse and check.
_LOADED: dict[tuple, Evaluation] = {}
_LOADED_MAX = 64


def _config_state(folder: Path) -> tuple | None:
    """(name, inode, size, mtime) of evaluation.yaml and the frameworks: any edit changes it; None if unreadable."""
    try:
        paths = [folder / METADATA_FILE, *sorted((folder / "frameworks").glob("*.yaml"))]
        return tuple((p.name, (st := p.lstat()).st_ino, st.st_size, st.st_mtime_ns) for p in paths)
    except OSError:
        return None


def load(folder: Path) -> Evaluation:
    """Read and check ``evaluation.yaml``; every problem raises :class:`EvaluationError` naming the file and key.

    A folder whose configuration files are unchanged since the last load in this process is not parsed again.
    """
    state = _config_state(folder)
    key = (str(folder.absolute()), state)
    if state is not None and key in _LOADED:
        return _LOADED[key]
    ev = _load(folder)
    if state is not None:
        if len(_LOADED) >= _LOADED_MAX:
            _LOADED.pop(next(iter(_LOADED)))
        _LOADED[key] = ev
    return ev


def _load(folder: Path) -> Evaluation:
    path = folder / METADATA_FILE
    check_id(folder.name, folder)
    try:
        config = parse_evaluation(yamlio.load(path, "评价元数据"), path)
    except (yamlio.ConfigFileError, ValueError) as exc:
        raise EvaluationError(str(exc)) from exc
    ev = Evaluation(id=folder.name, folder=folder, config=config)
    ev.frameworks  # noqa: B018 — a missing or malformed framework fails the evaluation at load, not mid-run
    return ev


@dataclasses.dataclass(frozen=True)
class FolderError:
    """An evaluation folder that could not be loaded: skipped alone, reported with the reason."""

    id: str
    folder: Path
    message: str


def scan(raw_root: Path) -> tuple[list[Evaluation], list[FolderError]]:
    """Every evaluation under the raw root, sorted by id, and the folders that could not be loaded.

    One malformed folder never hides the others: each is loaded on its own.
    """
    if not raw_root.is_dir():
        raise EvaluationError(f"{raw_root}: 原始数据目录不存在 / raw root does not exist")
    found, errors = [], []
    for p in sorted(raw_root.iterdir()):
        if p.is_symlink() or not p.is_dir() or not (p / METADATA_FILE).is_file():
            continue
        try:
            found.append(load(p))
        except EvaluationError as exc:
            errors.append(FolderError(p.name, p, str(exc)))
    return found, errors


def discover(raw_root: Path) -> list[Evaluation]:
    """Every loadable evaluation under the raw root, sorted by id (folders that fail to load are left out)."""
    return scan(raw_root)[0]


def find(raw_root: Path, evaluation_id: str) -> Evaluation:
    """The evaluation folder ``raw_root/<evaluation_id>``; the id must name a folder directly under the root."""
    check_id(evaluation_id, raw_root / evaluation_id if "/" not in evaluation_id else evaluation_id)
    folder = raw_root / evaluation_id
    if folder.is_symlink() or not (folder / METADATA_FILE).is_file():
        known = ", ".join(e.id for e in discover(raw_root)) if raw_root.is_dir() else "none"
        raise EvaluationError(
            f"{folder}: 不是评价目录（缺少 {METADATA_FILE}）/ not an evaluation folder; known: {known or 'none'}"
        )
    return load(folder)
