"""The multi-task perception network, its pre/post-processing and deployed forms."""

import core.offline  # noqa: F401  (ultralytics offline before any module here imports it)
