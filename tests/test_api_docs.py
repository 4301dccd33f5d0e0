"""docs/api.md is generated from the code (docs/generate_api.py), and CI holds it to the code."""
import importlib.util
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def generator():
    path = ROOT / "docs" / "generate_api.py"
    spec = importlib.util.spec_from_file_location("generate_api", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_docs_api_md_matches_the_code(generator):
    committed = (ROOT / "docs" / "api.md").read_text()
    assert committed == generator.generate(), (
        "docs/api.md is out of date with the code: run `python docs/generate_api.py` and "
        "commit it")


def test_every_public_module_is_listed(generator):
    import minigrad
    text = (ROOT / "docs" / "api.md").read_text()
    for path in Path(minigrad.__file__).parent.rglob("*.py"):
        parts = path.relative_to(Path(minigrad.__file__).parent.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        if not any(part.startswith("_") for part in parts):
            assert f"## `{'.'.join(parts)}`" in text, parts


@pytest.fixture
def toy_package(tmp_path, monkeypatch):
    """A package the generator has never seen: what it lists comes from introspection."""
    root = tmp_path / "toypkg"
    (root / "sub").mkdir(parents=True)
    (root / "__init__.py").write_text(textwrap.dedent('''
        """Toy package: the top."""
        from toypkg.core import Thing, make
        from toypkg._hidden import secret_helper
        LIMIT = 3
    '''))
    (root / "core.py").write_text(textwrap.dedent('''
        """Core things.

        More text that is not the summary.
        """
        __all__ = ["Thing", "make", "LIMIT2"]
        LIMIT2 = 4

        class Thing:
            """A thing
            on two lines."""

            def __init__(self, size: int = 2):
                self.size = size

            def grow(self, by=1):
                """Grow by ``by``."""

            @property
            def area(self):
                """Its area."""

            @classmethod
            def build(cls, n):
                pass

            def _private(self):
                pass

        def make(n, *, kind="a"):
            """Make ``n`` things."""

        def not_exported():
            pass
    '''))
    (root / "_hidden.py").write_text('def secret_helper():\n    """Hidden."""\n')
    (root / "sub" / "__init__.py").write_text("")
    (root / "sub" / "tool.py").write_text('def use(x=None):\n    """Use it."""\n')
    monkeypatch.syspath_prepend(str(tmp_path))
    yield "toypkg"
    for name in [n for n in sys.modules if n == "toypkg" or n.startswith("toypkg.")]:
        del sys.modules[name]


def test_the_generator_introspects_any_package(generator, toy_package):
    text = generator.generate(toy_package)
    for line in [
        "- [`toypkg.core`](#toypkgcore)", "- [`toypkg.sub.tool`](#toypkgsubtool)",
        "Toy package: the top.", "Core things.",
        "- class `Thing(size: int = 2)`: A thing on two lines.",
        "  - `grow(by=1)`: Grow by ``by``.", "  - property `area`: Its area.",
        "  - classmethod `build(n)`", "- `make(n, *, kind='a')`: Make ``n`` things.",
        "- data: `LIMIT2`", "- data: `LIMIT`", "- `use(x=None)`: Use it.",
        "- `secret_helper()`: Hidden.",  # defined privately, exported publicly: described
        "- also here: `Thing` (toypkg.core), `make` (toypkg.core)",
    ]:
        assert line in text.splitlines(), line
    assert "not_exported" not in text and "_private" not in text
    assert "toypkg._hidden`" not in text and "More text" not in text


def test_check_fails_on_a_difference_and_names_the_command(generator, tmp_path, monkeypatch,
                                                           capsys):
    stale = tmp_path / "api.md"
    stale.write_text("# old\n")
    monkeypatch.setattr(generator, "OUTPUT", stale)
    monkeypatch.setattr(generator, "ROOT", tmp_path)
    monkeypatch.setattr(generator, "generate", lambda: "# new\n")
    assert generator.main(["--check"]) == 1
    captured = capsys.readouterr()
    assert "-# old" in captured.out and "+# new" in captured.out
    assert "run `python docs/generate_api.py`" in captured.err
    assert generator.main([]) == 0 and stale.read_text() == "# new\n"
    assert generator.main(["--check"]) == 0
