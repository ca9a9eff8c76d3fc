#!/usr/bin/env python3
"""Single entry point of the road perception application.

    python run.py                       the viewer on the bundled sample clip (headless infer without a display)
    python run.py view|infer|train|eval|export|bench|info|submit-kitti|calibrate ...

This file only parses arguments: each package's cli module adds its own
subcommands and does the work.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from core.errors import UserError

# Bad input (a missing file, a malformed calib, weights of another model) and a
# missing optional dependency (TensorRT on a CPU machine) are the user's to fix:
# they raise core.errors.UserError, printed as one line naming the problem, exit
# status 2. Anything else, a ValueError or OSError included, is a bug and keeps
# its traceback. PERCEPTION_DEBUG=1 shows tracebacks for all.

# Each module has add_commands(subparsers). Keep their top level light: heavy
# imports (torch, Qt) go inside the handlers so `run.py --help` stays instant.
CLI_MODULES = ("nets.cli", "train.cli", "app.cli", "calib.cli")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="run.py", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in CLI_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as e:
            if e.name != name:  # a real missing dependency inside the module: say so
                raise
            continue
        module.add_commands(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        # the main job: the viewer on the bundled clip, or headless inference without a display
        from app.cli import run_default as handler
    else:
        handler = args.func
    try:
        return handler(args) or 0
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except UserError as e:
        if os.environ.get("PERCEPTION_DEBUG"):
            raise
        print(f"error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
