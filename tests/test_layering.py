"""The package layering, checked on the source: core ← nets, calib ← app, train.

core imports nothing of ours; nets and calib import neither app nor train; app and
train never import each other. Every import statement counts, also those inside
functions (the cli modules import their heavy parts there), and relative imports
are resolved to the package they name.
"""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OURS = {"core", "nets", "calib", "train", "app", "run"}
FORBIDDEN = {
    "core": OURS - {"core"},
    "nets": {"app", "train", "run"},
    "calib": {"app", "train", "run"},
    "app": {"train", "run"},
    "train": {"app", "run"},
}


def imported_packages(path: Path, root: Path) -> set[tuple[int, str]]:
    """(line, top-level package) of every import in the file at `path`, relative imports resolved."""
    module_parts = list(path.relative_to(root).with_suffix("").parts)
    package_parts = module_parts[:-1]  # a module's package; for an __init__.py, the package itself
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found.update((node.lineno, alias.name.split(".")[0]) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # from . / .. import: relative to this file's package
                base = package_parts[: len(package_parts) - (node.level - 1)]
                parts = base + (node.module.split(".") if node.module else [])
            else:
                parts = node.module.split(".")
            if parts:
                found.add((node.lineno, parts[0]))
            else:  # `from ... import app` up to the repository root: the names are the packages
                found.update((node.lineno, alias.name) for alias in node.names)
    return found


def layering_violations(root: Path) -> list[str]:
    problems = []
    for package, forbidden in FORBIDDEN.items():
        for path in sorted((root / package).rglob("*.py")):
            for line, imported in sorted(imported_packages(path, root)):
                if imported in forbidden:
                    problems.append(f"{path.relative_to(root)}:{line} imports {imported}")
    return problems


def test_packages_import_only_downwards():
    assert all((ROOT / p).is_dir() for p in FORBIDDEN)
    assert layering_violations(ROOT) == []


def test_the_check_finds_absolute_relative_and_function_level_imports(tmp_path):
    for package in FORBIDDEN:
        (tmp_path / package).mkdir()
        (tmp_path / package / "__init__.py").write_text("")
    (tmp_path / "nets" / "sub").mkdir()
    (tmp_path / "nets" / "sub" / "deep.py").write_text("from ... import app\n")  # ... from nets/sub = the root
    (tmp_path / "calib" / "a.py").write_text("def f():\n    from train.metrics import x\n")
    (tmp_path / "core" / "b.py").write_text("import numpy\nimport nets.model\n")
    (tmp_path / "app" / "c.py").write_text("from .frames import Frame\nfrom nets import predictor\n")  # allowed
    (tmp_path / "train" / "d.py").write_text("from app.frames import Frame\n")
    assert sorted(layering_violations(tmp_path)) == ["calib/a.py:2 imports train", "core/b.py:2 imports nets",
                                                     "nets/sub/deep.py:1 imports app", "train/d.py:1 imports app"]
