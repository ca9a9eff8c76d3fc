"""The menu bar: which of the window's actions each menu lists, and the replay speeds."""

from __future__ import annotations

from collections.abc import Callable

from PyQt5.QtGui import QKeySequence
from PyQt5.QtWidgets import QAction, QActionGroup, QMainWindow

from .shortcuts import LAYER_KEYS
from .transport import speed_text

FILE_MENU = ("open_file", "open_folder", "open_camera", None, "open_weights", "open_calib", "open_calib_folder", None,
             "screenshot", "record", None, "quit")  # None: a separator
PLAYBACK_MENU = ("play", "step", "step_back", "restart", "loop", None, "faster", "slower")


def make_action(window: QMainWindow, text: str, slot, shortcut=None, checkable: bool = False,
                tip: str = "") -> QAction:
    action = QAction(text, window)
    if shortcut is not None:
        action.setShortcut(QKeySequence(shortcut))
    action.setCheckable(checkable)
    if tip:
        action.setStatusTip(tip)
    action.triggered.connect(slot)
    window.addAction(action)  # shortcuts work even while the menu bar is hidden
    return action


def build_menus(window: QMainWindow, actions: dict[str, QAction], speeds, speed: float,
                select_speed: Callable[[float], None]) -> QActionGroup:
    """File, Playback (with a Speed submenu), View and Help; the speed items' group (one checked: `speed`)."""
    bar = window.menuBar()
    for title, keys in (("&File", FILE_MENU), ("&Playback", PLAYBACK_MENU)):
        menu = bar.addMenu(title)
        for key in keys:
            menu.addSeparator() if key is None else menu.addAction(actions[key])
    speed_menu = menu.addMenu("Speed")  # under Playback
    group = QActionGroup(window)
    for value in speeds:
        action = QAction(speed_text(value), group, checkable=True)
        action.setChecked(value == speed)
        action.triggered.connect(lambda _=False, v=value: select_speed(v))
        speed_menu.addAction(action)
    view_menu = bar.addMenu("&View")
    for name in LAYER_KEYS:
        view_menu.addAction(actions[f"layer_{name}"])
    view_menu.addSeparator()
    view_menu.addAction(actions["show_bev"])
    bar.addMenu("&Help").addAction(actions["shortcuts"])
    return group
