"""Sources, the threaded capture → infer → overlay pipeline, overlay drawing and the PyQt5 viewer."""
