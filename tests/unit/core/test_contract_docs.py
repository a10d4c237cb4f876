"""The contract is declared once: docs/contract.md is generated from the pandera models."""

from pipeline.contract_docs import render
from tests.support import ROOT


def test_contract_doc_is_generated_from_the_models():
    assert (ROOT / "docs" / "contract.md").read_text(encoding="utf-8") == render(), (
        "docs/contract.md is stale: run `python -m pipeline.contract_docs > docs/contract.md`"
    )


def test_every_contract_column_is_documented_in_both_languages():
    from pipeline.contract import KINDS

    text = render()
    for kind in KINDS.values():
        assert f"`{kind.name}`" in text
        for col in kind.columns.values():
            assert col.title in text and col.description in text
