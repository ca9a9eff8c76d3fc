"""What the pipeline needs of its collaborators: typed contracts instead of attribute probes.

    Pipeline(source: Source, predictor: Predictor, sinks=[Sink, ...], renderer: Renderer, tracker: Tracker)

Each contract is a `typing.Protocol` with the members app.pipeline.Pipeline really uses, and says on
which of its three threads (capture, inference, output) or from which caller each member is used. The
real implementations satisfy them structurally (app.sources.Source and its subclasses,
app.viewer.pacing.PacedSource; nets.predictor.Predictor; app.writers.*, the viewer's sinks;
app.overlay.OverlayRenderer; app.tracking.ObjectTracker), and so may a test's stand-in.

Optional capabilities are small protocols of their own (SeekableSource, PerClassThresholds,
StreamFiltered, RoadPlaneDistance), checked once when a collaborator is handed to the pipeline, never on
each frame. `require()` turns a missing member into a TypeError naming it, at construction, instead of an
AttributeError on some frame later.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:  # annotations only: no import cycle with frames/sources, no cost at import
    import numpy as np

    from nets.result import Perception

    from .frames import Frame, FrameResult
    from .sources import SourceInfo


@runtime_checkable
class Source(Protocol):
    """Frames from a camera, stream, file or folder.

    info: what the source delivers (app.sources.SourceInfo: live, seekable, frame_count, …); read from
        any thread, fixed for the source's life.
    position: index of the frame the next read() returns; read on the capture thread (the frame being
        captured) and from any thread (snapshots).
    state: "ok", "retrying", "lost" or "closed"; read from any thread (snapshots).
    read(): the next Frame, or None at the end (replay) or after interrupt(); capture thread.
    interrupt(): cut a read() that waits short; called from whichever thread stops the pipeline.
    close(): release the device or file; capture thread, once, when it ends (close_source=True).
    """

    info: SourceInfo
    position: int
    state: str

    def read(self) -> Frame | None: ...

    def interrupt(self) -> None: ...

    def close(self) -> None: ...


@runtime_checkable
class SeekableSource(Source, Protocol):
    """A replay source (info.seekable): seek(index) makes the next read() return frame `index`.

    Called on the capture thread only (a pipeline's seek() is a request the capture stage carries out).
    """

    def seek(self, index: int) -> None: ...


@runtime_checkable
class Predictor(Protocol):
    """Frame in, Perception out (nets.predictor.Predictor, or a stand-in).

    __call__(image): BGR uint8 (H, W, 3) → nets.result.Perception in the image's pixels; inference thread.
    conf, iou: detection score and NMS IoU thresholds; the pipeline assigns them on the inference thread
        before a frame when its thresholds changed.
    backend_name: the engine's name for the HUD and statistics; read from any thread.
    close(): free the engine; called once, on the inference thread after a swap (set_predictor), or on
        the caller's thread when the pipeline is not running.
    """

    conf: float
    iou: float

    @property
    def backend_name(self) -> str: ...

    def __call__(self, image: np.ndarray) -> Perception: ...

    def close(self) -> None: ...


@runtime_checkable
class PerClassThresholds(Protocol):
    """A predictor with per-class score floors over `conf` (configs/runtime.yaml thresholds.class_conf);
    the pipeline assigns them on the inference thread, as it does conf and iou."""

    class_conf: dict[str, float]


@runtime_checkable
class StreamFiltered(Protocol):
    """A predictor that takes a stateful road-map filter for a video stream (nets.road_stability):
    `road_filter` is None until the pipeline installs one (configs/runtime.yaml road_smoothing), then reset
    at every seek; inference thread."""

    road_filter: Any


@runtime_checkable
class ExposureNormalized(Protocol):
    """A predictor that brightens dark frames toward the training frames' brightness before the network
    (nets.preprocess.ExposureNorm; None: off): the pipeline installs the one of its runtime config
    (configs/runtime.yaml exposure); inference thread."""

    exposure: Any


@runtime_checkable
class Sink(Protocol):
    """Where finished frames go (a video, mask or JSON-lines writer, the viewer's recorder).

    write(result): each delivered FrameResult, in order; output thread.
    close(): flush and finish; output thread, once, when the stage ends (also after an error).
    """

    def write(self, result: FrameResult) -> None: ...

    def close(self) -> None: ...


@runtime_checkable
class Renderer(Protocol):
    """Draws a Perception on its frame (app.overlay.OverlayRenderer).

    render(image, perception, road_threshold, hud=..., tracks=...): a new BGR image, `image` untouched;
        output thread. `tracks` (an app.tracking.TrackFrame) is passed only when the pipeline tracks.
    distance: the renderer's DistanceEstimator or None (may be replaced from any thread); the tracker's
        road plane comes from it when the pipeline is given no homography_for.
    """

    distance: Any

    def render(self, image: np.ndarray, perception: Perception, road_threshold: float = 0.5,
               hud: str | None = None, **kwargs) -> np.ndarray: ...


@runtime_checkable
class RoadPlaneDistance(Protocol):
    """A DistanceEstimator backed by a road-plane homography (app.overlay.GroundDistance): the tracker
    measures in its plane."""

    homography: Any


@runtime_checkable
class Tracker(Protocol):
    """Track ids, distances over time and warnings (app.tracking.ObjectTracker).

    update(t, perception, road_threshold, homography, index): the TrackFrame for a delivered frame, in
        order; output thread. t: seconds (media time for files, capture time for live sources).
    """

    def update(self, t: float, perception: Perception, road_threshold: float, homography: Any,
               index: int) -> Any: ...


def missing_members(obj: object, protocol: type) -> list[str]:
    """The members of `protocol` that `obj` lacks (empty when it satisfies the protocol)."""
    names = sorted(getattr(protocol, "__protocol_attrs__", None) or _protocol_attrs(protocol))
    return [name for name in names if not hasattr(obj, name)]


def require(obj: object, protocol: type, role: str) -> None:
    """TypeError naming what `obj` lacks unless it satisfies `protocol` (a programming error, not a user's)."""
    if not isinstance(obj, protocol):
        missing = ", ".join(missing_members(obj, protocol)) or "?"
        raise TypeError(f"the pipeline's {role} {type(obj).__name__} is not a {protocol.__name__}: "
                        f"it has no {missing} (see app/contracts.py)")


def _protocol_attrs(protocol: type) -> set[str]:
    """Python 3.11 keeps a protocol's members in typing's private helper; 3.12+ in __protocol_attrs__."""
    import typing

    return set(typing._get_protocol_attrs(protocol))  # no public API before 3.12
