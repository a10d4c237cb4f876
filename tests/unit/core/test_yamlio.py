"""The strict YAML loader: libyaml's path gives what the pure-Python loader gives, data and errors alike."""

from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from pipeline import yamlio

ROOT = Path(__file__).resolve().parents[3]
CONFIGS = sorted((ROOT / "raw").glob("*/evaluation.yaml")) + sorted((ROOT / "raw").glob("*/frameworks/*.yaml"))

needs_libyaml = pytest.mark.skipif(yamlio._CLoader is None, reason="PyYAML built without libyaml")


def _python(text: str):
    return yaml.load(text, Loader=yamlio.StrictLoader)


@needs_libyaml
@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_configuration_file_reads_the_same_through_libyaml(path):
    text = path.read_text(encoding="utf-8")
    data = yamlio._parse(text)
    assert data == _python(text)
    assert repr(data) == repr(_python(text))  # the same types too (Decimal, int, str), in the same key order


BROKEN = {
    "duplicate key": ("a: 1\nb: 2\na: 3\n", "键“a”重复出现（第 1 行已有）"),
    "nested duplicate key": ("a:\n  x: 1\n  x: 2\n", "键“x”重复出现（第 2 行已有）"),
    "alias": ("a: &x 1\nb: *x\n", "不允许使用 YAML 锚点（&x）"),
    "unused anchor": ("a: &x [1, 2]\n", "不允许使用 YAML 锚点（&x）"),
    "alias only": ("a: *x\n", "不允许使用 YAML 别名（*x）"),
}


@needs_libyaml
@pytest.mark.parametrize("name", sorted(BROKEN))
def test_refusals_are_the_same_through_libyaml(name):
    text, message = BROKEN[name]
    errors = []
    for parse in (yamlio._parse, _python):
        with pytest.raises(yaml.MarkedYAMLError) as caught:
            parse(text)
        errors.append(caught.value)
    assert all(message in e.problem for e in errors), [e.problem for e in errors]
    fast, slow = errors
    assert (fast.problem_mark.line, fast.problem_mark.column) == (slow.problem_mark.line, slow.problem_mark.column)


def test_load_reads_floats_as_decimal_and_names_the_file_in_every_error(tmp_path):
    good = tmp_path / "good.yaml"
    good.write_text("rate: 0.1\nbig: 1_000.25\nn: 3\n", encoding="utf-8")
    assert yamlio.load(good, "评价元数据") == {"rate": Decimal("0.1"), "big": Decimal("1000.25"), "n": 3}
    for text, message in [
        *BROKEN.values(),
        ("a: !!python/object/apply:os.system ['echo x']\n", "不允许的 YAML 标签"),
        ("a: [unclosed\n", "评价元数据格式错误：第 2 行"),
    ]:
        bad = tmp_path / "bad.yaml"
        bad.write_text(text, encoding="utf-8")
        with pytest.raises(yamlio.ConfigFileError) as caught:
            yamlio.load(bad, "评价元数据")
        assert str(bad) in str(caught.value) and message in str(caught.value), str(caught.value)
