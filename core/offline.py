"""Make ultralytics strictly offline before anything imports it.

ultralytics reads these variables once, at its own import: after that it is too
late. So every package of ours imports this module in its `__init__`, and
whichever of our modules comes first (`train.losses`, `nets.model`, a test)
has set them before its `import ultralytics` runs. It must never fetch weights,
fonts or settings, check for updates, pip-install requirements or send
analytics, and its settings file stays out of the user's home. The variables
are set only where the user has not chosen otherwise.
"""

import os
import tempfile

os.environ.setdefault("YOLO_OFFLINE", "1")  # is_online() -> False: no downloads, no events
os.environ.setdefault("YOLO_AUTOINSTALL", "false")  # never pip-install missing requirements
os.environ.setdefault("YOLO_VERBOSE", "false")
# ultralytics writes a settings.json at import; keep it out of the user's home ($HOME/.config)
os.environ.setdefault("YOLO_CONFIG_DIR", os.path.join(tempfile.gettempdir(), "roadperception-ultralytics"))
