"""Before Qt starts: can its platform plugin load here? If not, say which packages to install.

Qt's xcb plugin (the X11 one, Qt 5's default on Linux) links against libxcb-*
libraries that a minimal or server install lacks. Qt then aborts the process
(exit 134) with a generic "could not load the Qt platform plugin" message that
names neither library. Running `ldd` on the plugin first names the missing ones
and the exact `apt-get install` line, before any window is attempted.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
from pathlib import Path

from core.errors import MissingDependencyError


def qt_platform(environ=None) -> str:
    """The platform plugin Qt will load: QT_QPA_PLATFORM's first name, else Qt 5's default on Linux, xcb."""
    environ = os.environ if environ is None else environ
    return (environ.get("QT_QPA_PLATFORM") or "xcb").split(":")[0].split(";")[0].strip() or "xcb"


def platform_plugin(name: str) -> Path | None:
    """PyQt5's bundled libq<name>.so, without importing Qt; None when PyQt5 or the plugin is not there."""
    spec = importlib.util.find_spec("PyQt5")
    if spec is None or not spec.submodule_search_locations:
        return None
    for root in spec.submodule_search_locations:
        for qt in ("Qt5", "Qt"):
            plugin = Path(root) / qt / "plugins" / "platforms" / f"libq{name}.so"
            if plugin.is_file():
                return plugin
    return None


def missing_libraries(binary: str | Path) -> list[str]:
    """Shared libraries `binary` needs that the dynamic loader cannot find (from ldd), in ldd's order.
    [] where ldd is unavailable (nothing can be said then; Qt reports for itself)."""
    ldd = shutil.which("ldd")
    if ldd is None:
        return []
    try:
        out = subprocess.run([ldd, str(binary)], capture_output=True, text=True, timeout=20, check=False).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    missing = [line.split("=>")[0].strip() for line in out.splitlines() if "not found" in line]
    return list(dict.fromkeys(missing))


def apt_package(library: str) -> str:
    """Debian/Ubuntu's package of a library soname: libxcb-icccm.so.4 → libxcb-icccm4,
    libxkbcommon-x11.so.0 → libxkbcommon-x11-0 (a hyphen when the name ends in a digit)."""
    name, _, version = library.partition(".so")
    version = version.lstrip(".").split(".")[0]
    return f"{name}{'-' if version and name[-1].isdigit() else ''}{version}"


def check_qt_platform(environ=None) -> None:
    """Raise MissingDependencyError naming the missing libraries and the apt-get line when Qt's platform
    plugin for this session cannot load; return quietly when it can (or when it cannot be checked)."""
    name = qt_platform(environ)
    plugin = platform_plugin(name)
    if plugin is None:
        return
    missing = missing_libraries(plugin)
    if missing:
        packages = " ".join(dict.fromkeys(apt_package(lib) for lib in missing))
        raise MissingDependencyError(
            f"the viewer cannot open a window: Qt's {name} platform plugin needs {', '.join(missing)}, not "
            f"installed here. Install them with `sudo apt-get install -y {packages}`, or run headless with "
            "`python run.py infer`")
