"""Atomic writes: build the output under a temporary name in its own folder, rename it into place on success.

    with atomic_path("out/clip.mp4") as tmp:     # tmp: out/.clip.mp4.partial-1234.mp4 (same suffix: writers
        write_video(tmp)                          #  that pick a format by extension still pick it)
    # out/clip.mp4 appears complete, or not at all; an exception removes tmp and keeps any old file

    atomic_write_text("summary.json", text)
    with atomic_open("results.csv", "w", newline="") as f: ...
    with atomic_folder("submission/") as tmp_dir: ...   # a whole folder, renamed into place at the end

Why the same folder: os.replace is atomic only within one file system, and a
reader (a player, `run.py infer`, a benchmark server) must never see a
half-written file under the final name. A Ctrl-C, a crash or a full disk leaves
the old file (if any) untouched and at most a `.partial` file beside it; a kill
that gave no chance to clean up leaves one that the next write of that output removes.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .errors import OutputError
from .output_paths import UnsafeOutputError

PARTIAL_TAG = ".partial-"


STALE_AFTER_S = 60.0  # a partial file untouched this long, of a process that is gone, was left by a kill


def partial_path(path: str | Path) -> Path:
    """A temporary name beside `path` that keeps its suffix (cv2 picks the container/image format from it).
    Pure naming, cheap enough per frame; `fresh_partial_path` also clears what killed writers left."""
    path = Path(path)
    return path.with_name(f".{path.name}{PARTIAL_TAG}{os.getpid()}{path.suffix}")


def fresh_partial_path(path: str | Path) -> Path:
    """partial_path(path), after removing what earlier writers of the same `path` left when they were killed
    without a chance to clean up (SIGKILL, the OOM killer, a power cut). For opening one output; a writer of
    many files in one folder sweeps the folder once (`sweep_stale_partials(folder)`) and names each file with
    partial_path, so a frame costs no directory listing."""
    path = Path(path)
    sweep_stale_partials(path.parent, path.name)
    return partial_path(path)


def sweep_stale_partials(folder: str | Path, name: str | None = None, now: float | None = None) -> list[Path]:
    """Remove hidden partial files and folders (`.{name}.partial-<pid>...`; any name when `name` is None) in
    `folder` whose process is gone and that were not touched for STALE_AFTER_S (a writer on another machine
    sharing the folder still touches its file). Returns what was removed; what cannot be removed stays."""
    folder = Path(folder)
    now = time.time() if now is None else now
    removed = []
    prefix = f".{name}{PARTIAL_TAG}" if name is not None else "."
    try:
        candidates = [p for p in folder.iterdir() if p.name.startswith(prefix) and PARTIAL_TAG in p.name]
    except OSError:
        return removed  # no folder yet, or not listable: nothing of ours can be there
    for leftover in candidates:
        pid_text = leftover.name.rsplit(PARTIAL_TAG, 1)[1].split(".", 1)[0]
        if not pid_text.isdigit() or int(pid_text) == os.getpid() or _process_exists(int(pid_text)):
            continue
        try:
            if now - leftover.stat().st_mtime < STALE_AFTER_S:
                continue
        except OSError:
            continue
        discard(leftover)
        if not leftover.exists():
            removed.append(leftover)
    return removed


def _process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, OSError):
        return True  # someone else's process, or cannot tell: keep the file
    return True


def commit(tmp: str | Path, path: str | Path, sync: bool = True) -> Path:
    """Move a finished temporary file (or folder) into place: fsync its data, then os.replace."""
    tmp, path = Path(tmp), Path(path)
    if sync and tmp.is_file():
        fd = os.open(tmp, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    os.replace(tmp, path)
    return path


def discard(tmp: str | Path) -> None:
    """Remove a temporary file or folder; quietly, it may never have been created."""
    tmp = Path(tmp)
    if tmp.is_dir() and not tmp.is_symlink():
        shutil.rmtree(tmp, ignore_errors=True)
    else:
        try:
            tmp.unlink()
        except FileNotFoundError:
            pass


@contextmanager
def atomic_path(path: str | Path, sync: bool = True) -> Iterator[Path]:
    """Yield a temporary path beside `path`; on a normal exit it replaces `path`, on an exception it is removed."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = fresh_partial_path(path)
    discard(tmp)
    try:
        yield tmp
    except BaseException:
        discard(tmp)
        raise
    if not tmp.exists():
        raise OutputError(f"nothing was written to {path} (its temporary file {tmp.name} does not exist)")
    commit(tmp, path, sync)


@contextmanager
def atomic_open(path: str | Path, mode: str = "w", **kwargs):
    """open() for writing through a temporary file: `path` gets the whole content or keeps its old one."""
    if "w" not in mode:
        raise ValueError(f"atomic_open writes whole files (mode 'w' or 'wb'), got mode {mode!r}")
    if "b" not in mode:
        kwargs.setdefault("encoding", "utf-8")
    with atomic_path(path) as tmp:
        try:
            with open(tmp, mode, **kwargs) as f:
                yield f
        except OSError as e:
            if e.filename is None and e.strerror:
                raise OutputError(e.errno, f"cannot write {path}: {e.strerror}") from e
            raise


def atomic_write_text(path: str | Path, text: str) -> Path:
    with atomic_open(path, "w") as f:
        f.write(text)
    return Path(path)


def atomic_write_bytes(path: str | Path, data: bytes) -> Path:
    with atomic_open(path, "wb") as f:
        f.write(data)
    return Path(path)


@contextmanager
def atomic_folder(path: str | Path) -> Iterator[Path]:
    """Yield an empty temporary folder beside `path`; on success it becomes `path`.

    `path` must not exist or be an empty folder (it is replaced); a folder with
    files in it is refused before anything is written, so nothing of the user's
    is overwritten and a run that fails halfway leaves `path` as it was.
    """
    path = Path(path)
    if path.exists() and (not path.is_dir() or any(path.iterdir())):
        what = "a file" if not path.is_dir() else "a folder that already holds files"
        raise UnsafeOutputError(f"{path} is {what}; give a new or empty folder (nothing was written)")
    path.parent.mkdir(parents=True, exist_ok=True)
    sweep_stale_partials(path.parent, path.name)
    tmp = path.with_name(f".{path.name}{PARTIAL_TAG}{os.getpid()}")
    discard(tmp)
    tmp.mkdir()
    try:
        yield tmp
    except BaseException:
        discard(tmp)
        raise
    if path.is_dir():
        path.rmdir()  # empty (checked above); os.replace cannot replace a folder
    os.replace(tmp, path)
