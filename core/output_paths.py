"""Outputs must never destroy inputs: check every output path against the run's inputs before writing.

    refuse_unsafe_outputs(
        files={"--out": "in.mp4", "--json": "det.jsonl"},      # files a run will write
        folders={"--save-masks": "masks/"},                     # folders it will write files into
        inputs={"source": "in.mp4", **weight_files("weights/perception_n.pt")})

raises one `UnsafeOutputError` naming the output and the input it would destroy,
before anything is opened for writing. Two paths are the same file when they
resolve to the same real path (symbolic links, `..`) or, where both exist, have
the same (st_dev, st_ino): a hard link to the source is the source.
"""

from __future__ import annotations

import glob
import os
from collections.abc import Mapping
from pathlib import Path

from .errors import UserError

PathLike = str | os.PathLike


class UnsafeOutputError(UserError, ValueError):
    """An output path would overwrite an input (or another output) of the same run."""


def _real(path: PathLike) -> Path:
    return Path(os.path.realpath(os.path.expanduser(os.fspath(path))))


def same_file(a: PathLike, b: PathLike) -> bool:
    """True when `a` and `b` name one file: equal real paths, or one inode (hard links) where both exist."""
    if _real(a) == _real(b):
        return True
    try:
        sa, sb = os.stat(a), os.stat(b)
    except OSError:
        return False
    return (sa.st_dev, sa.st_ino) == (sb.st_dev, sb.st_ino)


def _inside(path: PathLike, folder: PathLike) -> bool:
    """True when `path` lies in `folder` or any folder below it (or is the folder itself)."""
    real, top = _real(path), _real(folder)
    if real == top or top in real.parents:
        return True
    try:  # the same folder reached through another mount or a bind: compare inodes up the tree
        st = os.stat(folder)
        for parent in [Path(path), *Path(path).resolve().parents]:
            if parent.exists():
                sp = os.stat(parent)
                if (sp.st_dev, sp.st_ino) == (st.st_dev, st.st_ino):
                    return True
    except OSError:
        pass
    return False


def source_inputs(spec: PathLike | int | None) -> dict[str, Path]:
    """What a source spec reads from disk: the video or image file, the image folder, or a glob's fixed folder.

    Cameras (0, /dev/video0) and stream URLs read nothing a run could overwrite: {}.
    """
    if spec is None or isinstance(spec, int):
        return {}
    text = os.fspath(spec).strip()
    if not text or text.isdigit() or "://" in text or text.startswith("/dev/video"):
        return {}
    path = Path(text).expanduser()
    if path.exists():
        return {"the source": path}
    if glob.has_magic(text):
        fixed = []
        for part in Path(text).parts:
            if glob.has_magic(part):
                break
            fixed.append(part)
        folder = Path(*fixed) if fixed else Path(".")
        return {"the source folder": folder}
    return {}


def weight_files(weights: PathLike | None) -> dict[str, Path]:
    """The weights file and its exported siblings (perception_n.pt → .onnx, .fp16.onnx, .int8cpu.onnx, .engine ...)."""
    if weights is None:
        return {}
    path = Path(weights).expanduser()
    base = path.name.split(".", 1)[0]
    found = {"the weights": path}
    if path.parent.is_dir():
        for sibling in sorted(path.parent.glob(glob.escape(base) + ".*")):
            if sibling.is_file() and not same_file(sibling, path):
                found[f"the weights' sibling {sibling.name}"] = sibling
    return found


def refuse_unsafe_outputs(files: Mapping[str, PathLike | None] = {}, folders: Mapping[str, PathLike | None] = {},
                          inputs: Mapping[str, PathLike | None] = {}) -> None:
    """Raise UnsafeOutputError when an output would write over an input, or two outputs over each other.

    files: {label: file the run writes}; folders: {label: folder the run writes files into};
    inputs: {label: file or folder the run reads}. None values are ignored.
    """
    files = {k: Path(v) for k, v in files.items() if v is not None}
    folders = {k: Path(v) for k, v in folders.items() if v is not None}
    inputs = {k: Path(v) for k, v in inputs.items() if v is not None}
    for label, out in files.items():
        if out.is_dir():
            raise UnsafeOutputError(f"{label} {out} is a folder; give a file name")
        for what, src in inputs.items():
            if src.is_dir():
                if _inside(out, src):
                    raise UnsafeOutputError(f"{label} {out} is inside {what} {src}: it would add to or overwrite "
                                            "what is read; write it somewhere else (nothing was written)")
            elif same_file(out, src):
                raise UnsafeOutputError(f"{label} {out} is {what} ({src}): writing it would destroy it; "
                                        "give another output path (nothing was written)")
    for label, folder in folders.items():
        if folder.exists() and not folder.is_dir():
            raise UnsafeOutputError(f"{label} {folder} is a file, not a folder; give a folder")
        for what, src in inputs.items():
            if src.is_dir() and _inside(folder, src):
                raise UnsafeOutputError(f"{label} {folder} overlaps {what} {src}: its files would be overwritten "
                                        "or read back; give a separate folder (nothing was written)")
            if not src.is_dir() and same_file(src.parent, folder):
                raise UnsafeOutputError(f"{label} {folder} holds {what} {src}, which it could overwrite; "
                                        "give a separate folder (nothing was written)")
    labels = list(files)
    for i, a in enumerate(labels):
        for b in labels[i + 1:]:
            if same_file(files[a], files[b]):
                raise UnsafeOutputError(f"{a} and {b} are the same file ({files[a]}); give each its own path")


def refuse_suffix(label: str, path: PathLike | None, allowed: list[str] | tuple[str, ...], what: str) -> None:
    """Raise UnsafeOutputError when `path`'s extension is not one the writer produces (e.g. a video named .png)."""
    if path is None:
        return
    suffix = Path(path).suffix.lower()
    if suffix not in {s.lower() for s in allowed}:
        raise UnsafeOutputError(f"{label} {path}: the {what} writer cannot produce a {suffix or 'suffix-less'} "
                                f"file; use one of {', '.join(allowed)}")
