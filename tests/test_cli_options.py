"""The command lines' shape: every subcommand's handler is cmd_<command>, --backend offers the one list of
backends everywhere, the shared options mean the same on every command, and the thin handlers pass every flag
on to the modules that do the work."""

from __future__ import annotations

import argparse
import ast
from dataclasses import fields
from pathlib import Path

import pytest

import run
from nets.backends import BACKENDS
from nets.cli_options import BACKEND_HELP, PRECISION_HELP, WEIGHTS_HELP

ROOT = Path(__file__).resolve().parent.parent


def subcommands() -> dict[str, argparse.ArgumentParser]:
    parser = run.build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(sub.choices)


def option(parser: argparse.ArgumentParser, flag: str) -> argparse.Action | None:
    return next((a for a in parser._actions if flag in a.option_strings), None)


def test_every_command_is_there_with_a_cmd_handler():
    commands = subcommands()
    assert set(commands) == {"view", "infer", "bench", "info", "export", "train", "eval", "submit-kitti", "calibrate"}
    for name, parser in commands.items():
        assert parser.get_default("func").__name__ == "cmd_" + name.replace("-", "_")


def test_every_backend_option_offers_the_one_list():
    takes_backend = {name for name, p in subcommands().items() if option(p, "--backend")}
    assert takes_backend == {"view", "infer", "bench", "eval", "submit-kitti"}
    for name in takes_backend:
        backend = option(subcommands()[name], "--backend")
        assert tuple(backend.choices) == BACKENDS == ("auto", "tensorrt", "onnxruntime", "torch"), name
        assert backend.default == "auto" and backend.help, name


def test_an_unknown_backend_is_refused_by_every_command(capsys):
    for argv in (["infer"], ["bench"], ["view"], ["eval", "--dataset", "camvid"],
                 ["submit-kitti", "--root", "r", "--out", "o"]):
        with pytest.raises(SystemExit) as stopped:
            run.main([*argv, "--backend", "cuda"])
        assert stopped.value.code == 2, argv
        assert "invalid choice: 'cuda'" in capsys.readouterr().err, argv


def test_shared_options_read_the_same_on_every_command():
    commands = subcommands()
    for name in ("view", "infer", "bench", "eval", "submit-kitti"):
        weights = option(commands[name], "--weights")
        assert weights.help == WEIGHTS_HELP and weights.default is None and weights.type is None, name
    for name in ("view", "infer", "bench", "eval"):
        precision = option(commands[name], "--precision")
        assert precision.help == PRECISION_HELP and precision.default == "auto", name
    for name in ("infer", "bench", "eval", "submit-kitti"):
        assert option(commands[name], "--backend").help == BACKEND_HELP, name
    for name in ("view", "infer"):
        for flag in ("--conf", "--iou", "--road-threshold", "--source", "--runtime-config"):
            assert option(commands[name], flag).default is None, (name, flag)


def test_the_infer_job_has_a_field_for_each_flag_the_handler_passes():
    """cmd_infer builds app.headless.InferJob from the namespace field by field: no flag lost on the way."""
    from app.headless import InferJob

    infer = subcommands()["infer"]
    dests = {a.dest for a in infer._actions if a.dest not in ("help",)}
    assert {f.name for f in fields(InferJob)} == dests
    defaults = infer.parse_args([])
    assert InferJob() == InferJob(**{f.name: getattr(defaults, f.name) for f in fields(InferJob)})


def test_default_video_path_names_the_source():
    from types import SimpleNamespace

    from app.headless import default_video_path

    assert default_video_path("clips/drive 1.mp4", SimpleNamespace(kind="video", name="x")) == \
        str(Path("out") / "drive_1_annotated.mp4")
    camera = SimpleNamespace(kind="camera", name="0")
    assert default_video_path("0", camera) == str(Path("out") / "camera0_annotated.mp4")


def test_no_module_reaches_into_argparse_private_lookups():
    for path in [*ROOT.glob("*/cli*.py"), ROOT / "run.py"]:
        names = {n.attr for n in ast.walk(ast.parse(path.read_text(encoding="utf-8"))) if isinstance(n, ast.Attribute)}
        assert "_option_string_actions" not in names, path
