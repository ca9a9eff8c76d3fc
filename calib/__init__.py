"""Camera geometry: KITTI calib files, the road-plane homography, bird's-eye-view grids."""

import core.offline  # noqa: F401  (ultralytics offline before any module here imports it)
