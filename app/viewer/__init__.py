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
    session        ViewerSession: one opened source playing through one pipeline (the one caller of its
                   pause/resume/step/seek)
    session_manager SessionManager: which source plays; opening off the GUI thread, stale requests dropped,
                   a source waiting for the model, replaced sessions retired
    model_manager  ModelManager: which model runs; loading off the GUI thread, a failed load keeps the old one
    frame_geometry FrameGeometry: the open calibration per frame: camera, ground distances, bird's-eye view
    outputs        Outputs: screenshots and recordings, named after the source
    images         numpy array -> QImage without copying
    video_view     the frame, scaled to the widget
    bev_panel      the bird's-eye view with a metric grid, footprints and distances
    latency_graph  the last N end-to-end latencies
    stats_panel    FPS, latency per stage and frame counters, with the graph (under the video)
    controls       side panel: source, model (weights, backend switch), thresholds, layers
    frame_summary  side panel: objects per class, the nearest vehicle, the road share of the frame on screen
    transport      play/pause, step, seek slider, speed, record, screenshot
    status_bar     the status bar's figures: state, pace warning, recording, dropped frames
    panels         ViewerPanels: the central widget; what it shows of a session and a frame; small windows
    shortcuts      the keyboard shortcuts, as the help lists them
    menus          the menu bar
    dialogs        file, folder, camera/stream questions; the shortcuts box; the one non-modal error box
    theme          dark Fusion palette
    main_window    MainWindow: the window, its actions and events, and the wiring between all of the above
    launch         launch_viewer(): QApplication, window, event loop
"""
