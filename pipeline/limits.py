"""Resource limits for reading submissions: declared per evaluation, checked before and while parsing.

A submission is untrusted input. Each limit bounds what one file may cost (bytes on disk, bytes
once decompressed, rows, columns, cells, line length, memory and time of the worker that parses
it). A file over a limit is rejected as a whole with a message naming the limit and the value;
the run goes on with the other files. The defaults pass the national benchmark's largest
legitimate file with at least 4× headroom on every size (``tests/hostile/test_limits.py``).
Override any of them in ``evaluation.yaml`` under ``settings: limits:``.
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field

MIB = 1024 * 1024


class Limits(BaseModel):
    """The limits of one evaluation (``settings.limits``); every field has a safe default."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_file_mb: int = Field(64, gt=0, description="单个文件大小上限（MB） / bytes on disk of one file")
    max_inflated_mb: int = Field(
        256, gt=0, description="Excel 内部文件解压后大小上限（MB） / one XLSX part, decompressed"
    )
    max_rows: int = Field(
        250_000, gt=0, description="单表行数上限 / lines of one sheet or CSV, blank and title lines included"
    )
    max_columns: int = Field(64, gt=0, description="单表列数上限 / columns of one sheet or fields of one CSV record")
    max_cells: int = Field(
        4_000_000,
        gt=0,
        description="单表单元格数上限（行 × 列） / rows × columns of a sheet's used range (what a reader allocates)",
    )
    max_line_kb: int = Field(64, gt=0, description="CSV 单行长度上限（KB） / one physical line of a CSV")
    max_cell_chars: int = Field(
        32_767, gt=0, description="单元格字符数上限（Excel 的上限） / one cell's text (Excel's limit)"
    )
    worker_memory_mb: int = Field(2048, gt=0, description="解析进程内存上限（MB） / address space of a parsing worker")
    parse_timeout_s: int = Field(
        120, gt=0, description="解析时间上限（秒） / wall time of a worker on one batch of files"
    )

    LABELS: ClassVar[dict[str, str]] = {
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
        return (
            f"文件超出资源限制：{self.LABELS[name]}为 {limit}，该文件为 {value}；已整份拒收。"
            "请检查文件是否异常（如误选了整列、整表格式或嵌入了大量内容），删除多余内容后重新报送。"
        )
