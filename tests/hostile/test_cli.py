"""No traceback reaches a user: every input-caused error in every command is a Chinese message and an exit code."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.hostile.corpus import COUNTY, EVALUATION, HOHHOT, RECEIPTS, base, copy, renamed_sheet, xfd_cell
from tests.support import ROOT


def cli(*args: str, cwd: Path = ROOT, stdin=None, timeout: int = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pipeline", *args], cwd=cwd, capture_output=True, text=True, timeout=timeout, stdin=stdin
    )


def no_traceback(proc: subprocess.CompletedProcess) -> None:
    assert "Traceback" not in proc.stderr + proc.stdout, proc.stderr


@pytest.fixture
def raw(tmp_path) -> Path:
    root = tmp_path / "raw"
    base(root / EVALUATION)
    return root


def check(raw: Path, *files: Path) -> subprocess.CompletedProcess:
    return cli("check", "--raw", str(raw), "--evaluation", EVALUATION, *map(str, files))


def test_check_on_a_directory_a_dangling_link_and_a_fifo_says_what_they_are(raw, tmp_path):
    os.symlink(tmp_path / "nowhere.xlsx", tmp_path / "dangling.xlsx")
    os.mkfifo(tmp_path / "150102.xlsx")
    proc = check(raw, tmp_path, tmp_path / "dangling.xlsx", tmp_path / "150102.xlsx")
    no_traceback(proc)
    assert proc.returncode == 1
    assert "是目录，不是文件" in proc.stdout
    assert "是符号链接" in proc.stdout and "nowhere.xlsx" in proc.stdout
    assert "命名管道" in proc.stdout  # and it returned: a FIFO is never opened


def test_check_of_a_crashing_workbook_rejects_it_and_goes_on(raw, tmp_path):
    xfd_cell(tmp_path / "c")
    good = copy(tmp_path / "g", RECEIPTS)
    proc = check(raw, tmp_path / "c" / COUNTY, good)
    no_traceback(proc)
    assert proc.returncode == 1
    assert "[resource_limit]" in proc.stdout and "单表行数上限" in proc.stdout
    assert f"{good}: 读取 21 行，通过 21 行" in proc.stdout


def test_check_tells_the_clerk_the_name_a_county_workbook_must_have(raw, tmp_path):
    """新城区's filled-in workbook saved as 新城区报表.xlsx on a desktop: the name is the problem, the content is checked."""
    desk = tmp_path / "desktop"
    desk.mkdir()
    shutil.copyfile(HOHHOT / COUNTY, desk / "新城区报表.xlsx")
    proc = check(raw, desk / "新城区报表.xlsx")
    no_traceback(proc)
    assert proc.returncode == 1
    assert "文件中的填报单位代码为 150102（新城区），报送时文件应命名为 county/150102.xlsx" in proc.stdout
    assert "缺少必填列" not in proc.stdout  # checked as the county workbook it is, not as a bureau file
    assert "读取 16 行，通过 16 行" in proc.stdout


def test_check_warns_on_a_blank_template_and_counts_a_renamed_sheet(raw, tmp_path):
    assert cli("templates", "--raw", str(raw), "--evaluation", EVALUATION, str(tmp_path / "t")).returncode == 0
    blank = check(raw, tmp_path / "t" / "bureau" / "receipts.xlsx")
    no_traceback(blank)
    assert blank.returncode == 0
    assert "没有任何数据行" in blank.stdout and "可以报送" not in blank.stdout
    renamed_sheet(tmp_path / "r")
    proc = check(raw, tmp_path / "r" / COUNTY)
    assert proc.returncode == 1
    assert "工作表“支出明细”不是可识别的报送表，其中 4 行有内容，未读取" in proc.stdout
    assert "工作表“支出明细”: 共 4 行，其中 4 行有内容，未读取" in proc.stdout


def test_check_output_piped_to_head_ends_quietly(raw):
    proc = subprocess.run(
        f"{sys.executable} -m pipeline check --raw {raw} --evaluation {EVALUATION} "
        f"{HOHHOT / COUNTY} {HOHHOT / RECEIPTS} | head -1",
        shell=True,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.stdout.count("\n") == 1
    assert proc.stderr == "", proc.stderr


@pytest.mark.parametrize("evaluation", ["../x", "/etc", "a/b", "portfolio", "alerts", ".hidden"])
def test_an_evaluation_id_that_is_a_path_or_reserved_is_refused(raw, evaluation):
    proc = cli("run", "--raw", str(raw), "--out", str(raw.parent / "out"), "--evaluation", evaluation)
    no_traceback(proc)
    assert proc.returncode == 2
    assert "评价编号" in proc.stderr


YAML_BREAKS = {
    "duplicate_key": ("title: 一\ntitle: 二\n", "键“title”重复出现（第 1 行已有）"),
    "alias_bomb": (
        'a: &a ["x","x","x","x","x","x","x","x","x"]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n'
        "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n",
        "不允许使用 YAML 锚点",
    ),
    "python_tag": ("title: !!python/object/apply:os.system ['echo hacked']\n", "不允许的 YAML 标签"),
    "empty": ("", "评价元数据应为“键: 值”的映射"),
    "malformed": ("title: [unclosed\n", "评价元数据格式错误"),
    "not_utf8": ("title: 标题\n".encode("gbk"), "不是 UTF-8 编码"),
}


@pytest.mark.parametrize("name", sorted(YAML_BREAKS))
def test_a_broken_evaluation_yaml_is_a_message_naming_the_file(raw, name):
    text, message = YAML_BREAKS[name]
    path = raw / EVALUATION / "evaluation.yaml"
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    proc = cli("check", "--raw", str(raw), "--evaluation", EVALUATION, str(HOHHOT / RECEIPTS))
    no_traceback(proc)
    assert proc.returncode == 2
    assert str(path) in proc.stderr and message in proc.stderr, proc.stderr
    assert "hacked" not in proc.stdout


def test_county_codes_written_as_integers_are_refused_with_the_fix(raw):
    path = raw / EVALUATION / "evaluation.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace('code: "150102"', "code: 150102"), encoding="utf-8")
    proc = cli("check", "--raw", str(raw), "--evaluation", EVALUATION, str(HOHHOT / RECEIPTS))
    no_traceback(proc)
    assert proc.returncode == 2 and "编码请加引号" in proc.stderr


def test_a_missing_framework_file_names_it(raw):
    (raw / EVALUATION / "frameworks" / "self_evaluation.yaml").unlink()
    proc = cli("check", "--raw", str(raw), "--evaluation", EVALUATION, str(HOHHOT / RECEIPTS))
    no_traceback(proc)
    assert proc.returncode == 2 and "self_evaluation.yaml: 缺少指标体系文件" in proc.stderr


def test_a_bad_evaluation_beside_a_good_one_fails_alone(tmp_path):
    """`run` over a raw root with a broken folder (and a reserved name) still writes the valid evaluation."""
    raw = tmp_path / "raw"
    shutil.copytree(HOHHOT, raw / "2023-hohhot-pes")
    base(raw / "broken")
    (raw / "broken" / "evaluation.yaml").write_text("title: !!python/object:object {}\n", encoding="utf-8")
    base(raw / "portfolio")
    out = tmp_path / "out"
    proc = cli("run", "--raw", str(raw), "--out", str(out), timeout=600)
    no_traceback(proc)
    assert proc.returncode == 2
    assert "broken/evaluation.yaml" in proc.stderr and "portfolio" in proc.stderr
    assert (out / "2023-hohhot-pes" / "summary.json").is_file()
    assert "得分 score: 84.88（良）" in proc.stdout
