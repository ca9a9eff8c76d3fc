"""The PyQt5 desktop viewer: watch, tune and record the perception live.

    python run.py view --source clip.mp4 [--weights W] [--backend auto] [--calib FILE]

The viewer only presents. Sources are opened and models loaded on worker
threads, frames are inferred on the pipeline's threads (app/pipeline.py), and the
GUI thread receives finished frames through Qt signals.

Modules, one idea each:
    settings       the viewer's defaults (a `viewer:` section of the runtime config may override them)
    pacing         PacedSource: lossless replay at 0.25x-4x the source's FPS
    recording      RecordingSink: start/stop writing the overlaid stream from the GUI
    birdseye       BirdsEyeRenderer: road layer and object footprints on the road plane (numpy, output thread)
    predictors     PredictorProvider: which backends can run a weights file; build + warm a predictor
    background     run a slow call on a worker thread, its outcome back on the GUI thread
    bridge         PipelineBridge: pipeline callbacks re-emitted as Qt signals, newest frame wins
    session        ViewerSession: one opened source playing through one pipeline
    images         numpy array -> QImage without copying
    video_view     the frame, scaled to the widget
    bev_panel      the bird's-eye view with a metric grid, footprints and distances
    latency_graph  the last N end-to-end latencies
    stats_panel    FPS, latency per stage and frame counters, with the graph (under the video)
    controls       side panel: source, model (weights, backend switch), thresholds, layers
    frame_summary  side panel: objects per class, the nearest vehicle, the road share of the frame on screen
    transport      play/pause, step, seek slider, speed, record, screenshot
    dialogs        camera/stream input; the one non-modal error box
    theme          dark Fusion palette
    main_window    MainWindow: menus, shortcuts and the wiring between all of the above
    launch         launch_viewer(): QApplication, window, event loop
"""
