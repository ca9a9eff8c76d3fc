"""`run.py infer`'s outputs checked against its inputs before anything is opened for writing.

The rules themselves (same file by real path or inode, inside a source folder,
the weights and their exported siblings) are `core.output_paths`; this module
names what `infer` reads and writes.
"""

from __future__ import annotations

from core.output_paths import refuse_suffix, refuse_unsafe_outputs, source_inputs, weight_files


def check_infer_outputs(source, weights, video=None, json_lines=None, masks=None, config: dict | None = None) -> None:
    """Raise UnsafeOutputError when --out/--json/--save-masks would overwrite the source, a file of a source
    folder, the weights (or their ONNX/engine siblings) or each other, or --out has an extension the video
    writer cannot produce."""
    from nets.config import DEFAULT_WEIGHTS

    from .frames import load_runtime_config

    cfg = (config or load_runtime_config())["writers"]
    refuse_suffix("--out", video, cfg["video_suffixes"], "video")
    inputs = {**source_inputs(source), **weight_files(weights if weights is not None else DEFAULT_WEIGHTS)}
    refuse_unsafe_outputs(files={"--out": video, "--json": json_lines}, folders={"--save-masks": masks},
                          inputs=inputs)
