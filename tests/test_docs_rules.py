"""Every rules citation in the repository resolves in docs/rules.md.

Scans the .py and .md files of the project for section citations ("rules §4.6"), decision tags
("[D3]") and Appendix A examples named by tests ("appendix_a4"), and checks that each one names a
section heading, a decision or an example that docs/rules.md defines.
"""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
RULES = ROOT / "docs" / "rules.md"
SCANNED = ("README.md", "docs", "hackmatrix", "tests", "benchmarks")
SKIPPED_DIRS = {"__pycache__", ".pytest_cache"}
THIS_FILE = Path(__file__).resolve()

SECTION = re.compile(r"§(\d+(?:\.\d+)*)")
DECISION = re.compile(r"\[D(\d+)\]")
EXAMPLE = re.compile(r"appendix_a_?(?:example_)?(\d+)", re.IGNORECASE)
OLD_FORMS = re.compile(r"GAME_RULES|\bsections? \d")

RULES_TEXT = RULES.read_text(encoding="utf-8")
DEFINED_SECTIONS = set(re.findall(r"^#+ §(\d+(?:\.\d+)*) ", RULES_TEXT, re.MULTILINE))
DEFINED_DECISIONS = set(re.findall(r"^\* \*\*\[D(\d+)\]\*\*", RULES_TEXT, re.MULTILINE))
DEFINED_EXAMPLES = set(re.findall(r"^\* \*\*A(\d+)\*\*", RULES_TEXT, re.MULTILINE))


def _files():
    """Return the scanned .py and .md files, sorted, without this test module."""
    found = []
    for name in SCANNED:
        path = ROOT / name
        candidates = [path] if path.is_file() else path.rglob("*")
        for f in candidates:
            if (f.suffix in (".py", ".md") and f.is_file() and f.resolve() != THIS_FILE
                    and not SKIPPED_DIRS & set(f.parts) and ".egg-info" not in str(f)):
                found.append(f)
    return sorted(found)


def _citations(pattern):
    """Return [(where, number)] for every match of `pattern` in the scanned files."""
    out = []
    for f in _files():
        for lineno, line in enumerate(f.read_text(encoding="utf-8").splitlines(), 1):
            for m in pattern.finditer(line):
                out.append((f"{f.relative_to(ROOT)}:{lineno}", m.group(1)))
    return out


SECTION_CITATIONS = _citations(SECTION)
DECISION_CITATIONS = _citations(DECISION)
EXAMPLE_CITATIONS = _citations(EXAMPLE)


def _ids(citations, prefix):
    return [f"{where} {prefix}{number}" for where, number in citations]


@pytest.mark.parametrize(("where", "number"), SECTION_CITATIONS,
                         ids=_ids(SECTION_CITATIONS, "rules "))
def test_section_citation_resolves(where, number):
    """A cited section has a heading in docs/rules.md."""
    assert number in DEFINED_SECTIONS, f"{where} cites §{number}, which docs/rules.md lacks"


@pytest.mark.parametrize(("where", "number"), DECISION_CITATIONS,
                         ids=_ids(DECISION_CITATIONS, "D"))
def test_decision_tag_resolves(where, number):
    """A cited decision tag is defined in docs/rules.md §10.1."""
    assert number in DEFINED_DECISIONS, f"{where} cites [D{number}], which docs/rules.md lacks"


@pytest.mark.parametrize(("where", "number"), EXAMPLE_CITATIONS,
                         ids=_ids(EXAMPLE_CITATIONS, "A"))
def test_appendix_example_resolves(where, number):
    """A test named after an Appendix A example names one that docs/rules.md gives."""
    assert number in DEFINED_EXAMPLES, f"{where} names example A{number}, which docs/rules.md lacks"


def test_no_citation_of_a_document_outside_the_repository():
    """Nothing cites the external spec or the old "section N" form."""
    old = [f"{where}: {text}" for where, text in _citations(re.compile(f"({OLD_FORMS.pattern})"))]
    assert not old, "cite docs/rules.md as 'rules §N' instead:\n" + "\n".join(old)


def test_the_scan_finds_citations():
    """The scan sees the project's section citations (so the tests above are not vacuous)."""
    assert len(SECTION_CITATIONS) >= 50


def test_rules_define_every_decision():
    """docs/rules.md defines the decisions [D1]..[D9]."""
    assert DEFINED_DECISIONS == {str(i) for i in range(1, 10)}
