"""Sources, the threaded capture → infer → overlay pipeline, overlay drawing and the PyQt5 viewer."""

import core.offline  # noqa: F401  (ultralytics offline before any module here imports it)
