"""Resource limits for reading submissions: declared per evaluation, checked before and while parsing.

A submission is untrusted input. Each limit bounds what one file may cost (bytes on disk, bytes
once decompressed, rows, columns, cells, line length, memory and time of the worker that parses
it). A file over a limit is rejected as a whole with a message naming the limit and the value;
the run goes on with the other files. The defaults pass the national benchmark's largest
legitimate file with at least 4× headroom on every measure (``tests/test_limits.py``).
Override any of them in ``evaluation.yaml`` under ``settings: limits:``.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Mapping

MIB = 1024 * 1024


@dataclasses.dataclass(frozen=True)
class Limits:
    max_file_mb: int = 64  # bytes on disk of one submission file
    max_inflated_mb: int = 256  # one XLSX part (a sheet's XML, the shared strings) once decompressed
    max_rows: int = 250_000  # lines of one sheet or CSV, blank and title lines included
    max_columns: int = 64  # columns of one sheet or fields of one CSV record
    max_cells: int = 4_000_000  # rows × columns of a sheet's used range (what a reader allocates)
    max_line_kb: int = 64  # one physical line of a CSV
    max_cell_chars: int = 32_767  # one cell's text (Excel's own limit)
    worker_memory_mb: int = 2048  # address space of a parsing worker process
    parse_timeout_s: int = 120  # wall time of a parsing worker on one batch of files

    LABELS = {
        "max_file_mb": "文件大小上限（MB）",
        "max_inflated_mb": "Excel 内部文件解压后大小上限（MB）",
        "max_rows": "单表行数上限",
        "max_columns": "单表列数上限",
        "max_cells": "单表单元格数上限（行数 × 列数）",
        "max_line_kb": "CSV 单行长度上限（KB）",
        "max_cell_chars": "单元格字符数上限",
        "worker_memory_mb": "解析进程内存上限（MB）",
        "parse_timeout_s": "解析时间上限（秒）",
    }

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> "Limits":
        given = dict(settings.get("limits") or {})
        unknown = sorted(set(given) - {f.name for f in dataclasses.fields(cls)})
        if unknown:
            raise ValueError(f"settings.limits: 未知的限制项 {', '.join(unknown)}；可用：{', '.join(cls.LABELS)}")
        bad = [k for k, v in given.items() if not isinstance(v, int) or isinstance(v, bool) or v <= 0]
        if bad:
            raise ValueError(f"settings.limits: {', '.join(bad)} 应为正整数 / must be positive integers")
        return cls(**given)

    @property
    def file_bytes(self) -> int:
        return self.max_file_mb * MIB

    @property
    def inflated_bytes(self) -> int:
        return self.max_inflated_mb * MIB

    @property
    def line_bytes(self) -> int:
        return self.max_line_kb * 1024

    def message(self, name: str, value: object) -> str:
        """The Chinese sentence for a file over limit ``name``: what the limit is and what the file had."""
        limit = getattr(self, name)
        return (f"文件超出资源限制：{self.LABELS[name]}为 {limit}，该文件为 {value}；已整份拒收。"
                "请检查文件是否异常（如误选了整列、整表格式或嵌入了大量内容），删除多余内容后重新报送。")
