"""Alerts for whoever runs the pipeline unattended: a failed run, a failed sensor or schedule tick, a skipped folder.

An alert is three things at once: an ERROR line in the daemon's log (with time and level), the file
``OUT/alerts/<kind>-<key>.json`` that holds its current state, and a POST to ``PIPELINE_ALERT_WEBHOOK``
when that is set. The same failure recurring (every sensor tick while a folder stays broken) is logged
each time but sent again (file rewritten as new, webhook) only when its cause changed or
``PIPELINE_ALERT_REPEAT_SECONDS`` (default 3600) have passed since it was last sent. Alerts are
operational records, never evaluation outputs, so they carry wall-clock times.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import logging
import os
import urllib.request
from pathlib import Path

WEBHOOK_ENV = "PIPELINE_ALERT_WEBHOOK"
REPEAT_ENV = "PIPELINE_ALERT_REPEAT_SECONDS"
DEFAULT_REPEAT_SECONDS = 3600
FOLDER = "alerts"

# The kinds of alert, as they appear in file names and payloads.
RUN_FAILURE = "run-failure"
TICK_FAILURE = "tick-failure"
FOLDER_ERROR = "folder-error"


@dataclasses.dataclass(frozen=True)
class Alert:
    """What failed (kind, key: the run's evaluation, the sensor or schedule, the folder) and why."""

    kind: str
    key: str
    message: str  # the cause, Chinese first, as a reader must act on it
    details: dict = dataclasses.field(default_factory=dict)  # run id, step, folder, …: shown, not compared
    content: str = ""  # what the failure is about (e.g. the folder's content hash): a new content is a new alert

    @property
    def cause(self) -> str:
        """What makes two occurrences the same alert: kind, key, message and content."""
        return hashlib.sha256(json.dumps([self.kind, self.key, self.message, self.content]).encode()).hexdigest()


def repeat_seconds() -> float:
    """How long an unchanged alert stays quiet after it was sent (``PIPELINE_ALERT_REPEAT_SECONDS``)."""
    value = os.environ.get(REPEAT_ENV, "").strip()
    return float(value) if value else DEFAULT_REPEAT_SECONDS


def path_for(out_root: Path, kind: str, key: str) -> Path:
    return out_root / FOLDER / f"{kind}-{key}.json"


def _read(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _write(path: Path, state: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(state, ensure_ascii=False, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    tmp.replace(path)  # a reader never sees half a file


def _post(webhook: str, payload: dict) -> None:
    req = urllib.request.Request(
        webhook, data=json.dumps(payload, ensure_ascii=False).encode(), headers={"Content-Type": "application/json"}
    )
    urllib.request.urlopen(req, timeout=10).close()


def raise_alert(out_root: Path, alert: Alert, log: logging.Logger, now: dt.datetime | None = None) -> bool:
    """Log the alert at ERROR; write its file and POST it unless the same alert was sent recently. True when sent.

    A webhook that cannot be reached is logged at ERROR and retried at the next occurrence; it never raises,
    so a sensor that reports one failure does not fail itself.
    """
    now = now or dt.datetime.now(dt.UTC)
    path = path_for(out_root, alert.kind, alert.key)
    previous = _read(path)
    same = previous.get("cause") == alert.cause and not previous.get("resolved_at")
    last_sent = dt.datetime.fromisoformat(previous["sent_at"]) if same and previous.get("sent_at") else None
    quiet = (
        last_sent is not None
        and previous.get("delivered", True)
        and (now - last_sent).total_seconds() < repeat_seconds()
    )
    state = {
        "kind": alert.kind,
        "key": alert.key,
        "message": alert.message,
        "details": alert.details,
        "content": alert.content,
        "cause": alert.cause,
        "first_seen_at": previous["first_seen_at"] if same else now.isoformat(),
        "last_seen_at": now.isoformat(),
        "occurrences": previous.get("occurrences", 0) + 1 if same else 1,
        "sent_at": previous["sent_at"] if quiet else now.isoformat(),
        "delivered": previous.get("delivered", True) if quiet else True,
    }
    where = f"{alert.kind} {alert.key}: {alert.message}"
    if quiet:
        log.error(
            "告警 / ALERT %s（同一告警已于 %s 发送，%d 秒内不重复 / already sent, not repeated）",
            where,
            state["sent_at"],
            int(repeat_seconds()),
        )
        _write(path, state)
        return False
    log.error("告警 / ALERT %s → %s", where, path)
    webhook = os.environ.get(WEBHOOK_ENV)
    if webhook:
        payload = {k: state[k] for k in ("kind", "key", "message", "details", "first_seen_at", "occurrences")}
        try:
            _post(webhook, payload)
        except Exception as exc:  # noqa: BLE001 — any delivery failure is reported, never raised
            state["delivered"] = False
            state["webhook_error"] = f"{type(exc).__name__}: {exc}"
            log.error("告警推送失败 / alert webhook failed (%s): %s", webhook, state["webhook_error"])
    _write(path, state)
    return True


def resolve(out_root: Path, kind: str, key: str, log: logging.Logger, now: dt.datetime | None = None) -> bool:
    """Mark an open alert as resolved (the folder loads again, the tick succeeds). True when one was open."""
    path = path_for(out_root, kind, key)
    state = _read(path)
    if not state or state.get("resolved_at"):
        return False
    state["resolved_at"] = (now or dt.datetime.now(dt.UTC)).isoformat()
    _write(path, state)
    log.info("告警解除 / alert resolved: %s %s", kind, key)
    return True
