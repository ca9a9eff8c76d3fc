"""The multi-task perception network, its pre/post-processing and deployed forms.

Importing this package first makes ultralytics strictly offline: it must never
fetch weights, fonts or settings, check for updates or send analytics. The
variables are set before any ultralytics import and only where the user has not
chosen otherwise.
"""

import os
import tempfile

os.environ.setdefault("YOLO_OFFLINE", "1")  # is_online() -> False: no downloads, no events
os.environ.setdefault("YOLO_AUTOINSTALL", "false")  # never pip-install missing requirements
os.environ.setdefault("YOLO_VERBOSE", "false")
# ultralytics writes a settings.json at import; keep it out of the user's home
os.environ.setdefault("YOLO_CONFIG_DIR", os.path.join(tempfile.gettempdir(), "roadperception-ultralytics"))
