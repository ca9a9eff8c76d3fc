"""Camera geometry: KITTI calib files, the road-plane homography, bird's-eye-view grids."""
