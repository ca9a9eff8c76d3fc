"""ultralytics is made offline by whichever of our packages is imported first, before it reads its settings.

Each case runs in a fresh interpreter with a fresh $HOME and none of the YOLO_*
variables, as a user's shell would have them.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def fresh_python(code: str, tmp_path: Path) -> subprocess.CompletedProcess:
    home, tmp = tmp_path / "home", tmp_path / "tmp"
    home.mkdir()
    tmp.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("YOLO_") and k != "XDG_CONFIG_HOME"}
    env.update(HOME=str(home), TMPDIR=str(tmp), PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120, check=True)


@pytest.mark.parametrize("package", ["nets", "train", "app", "calib"])
def test_every_package_sets_the_offline_environment(package, tmp_path):
    out = fresh_python(f"import {package}, os, json; print(json.dumps({{k: v for k, v in os.environ.items() "
                       f"if k.startswith('YOLO_')}}))", tmp_path)
    env = json.loads(out.stdout)
    assert env["YOLO_OFFLINE"] == "1" and env["YOLO_AUTOINSTALL"] == "false"
    assert env["YOLO_CONFIG_DIR"] == str(tmp_path / "tmp" / "roadperception-ultralytics")


def test_train_losses_first_keeps_ultralytics_settings_out_of_home(tmp_path):
    """train.losses imports ultralytics before nets: its settings file used to land in $HOME/.config."""
    out = fresh_python("import train.losses\nfrom ultralytics.utils import SETTINGS_FILE\nprint(SETTINGS_FILE)",
                       tmp_path)
    settings = Path(out.stdout.strip().splitlines()[-1])
    assert settings.is_relative_to(tmp_path / "tmp" / "roadperception-ultralytics")
    assert list((tmp_path / "home").iterdir()) == []  # nothing written into the user's home


def test_the_users_own_choice_is_kept(tmp_path):
    code = "import os; os.environ['YOLO_CONFIG_DIR'] = os.getcwd(); import nets; print(os.environ['YOLO_CONFIG_DIR'])"
    assert fresh_python(code, tmp_path).stdout.strip() == str(ROOT)
