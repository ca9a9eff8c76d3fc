"""Drawing the tracker's view on a frame: track ids, short trails, distance / closing speed / TTC, the warning.

    draw_tracks(image, track_frame, style, warning_color=(0, 0, 255), distance=True)

Called by OverlayRenderer.render after the detection boxes, when the pipeline
tracks. A warning track gets a thick box in the warning colour and a banner across
the top says which one and its TTC; without a calibration a note at the bottom
says that distances and TTC are unavailable, instead of showing none silently.
"""

from __future__ import annotations

import cv2
import numpy as np

FONT = cv2.FONT_HERSHEY_SIMPLEX


def _text_scale(out: np.ndarray, base: float) -> float:
    return base * max(0.6, out.shape[0] / 720)


def _label(out, text, org, scale, fg, bg) -> None:
    (tw, th), base = cv2.getTextSize(text, FONT, scale, 1)
    x, y = int(org[0]), int(org[1])
    x = max(0, min(out.shape[1] - tw - 2, x))
    y = max(th + 2, min(out.shape[0] - base - 1, y))
    cv2.rectangle(out, (x, y - th - 2), (x + tw + 2, y + base), bg, -1)
    cv2.putText(out, text, (x + 1, y), FONT, scale, fg, 1, cv2.LINE_AA)


def track_text(track) -> str:
    """'12.4 m  3.1 m/s  TTC 4.0 s' for a measured track (closing speed positive when approaching)."""
    parts = [f"{track.distance_m:.1f} m"]
    if track.closing_speed_mps is not None:
        parts.append(f"{track.closing_speed_mps:+.1f} m/s")
    if track.ttc_s is not None:
        parts.append(f"TTC {track.ttc_s:.1f} s")
    return "  ".join(parts)


def banner_text(track_frame) -> str | None:
    urgent = track_frame.most_urgent()
    if urgent is None:
        return None
    text = f"FORWARD COLLISION WARNING  #{urgent.track_id} {urgent.class_name}"
    if urgent.distance_m is None:  # held on through a frame without a measurement
        return text
    what = f"TTC {urgent.ttc_s:.1f} s" if urgent.ttc_s is not None else "too close"
    return f"{text}  {what}  {urgent.distance_m:.1f} m"


def draw_tracks(out: np.ndarray, track_frame, style, warning_color=(0, 0, 255), distance: bool = True) -> None:
    """Draw in place. style: an overlay.OverlayStyle (class colours, box thickness, font scale)."""
    h = out.shape[0]
    scale = _text_scale(out, style.font_scale)
    thick = max(1, int(round(style.box_thickness * max(1.0, h / 720))))
    for track in track_frame.tracks:
        color = tuple(warning_color) if track.warning else style.color_of(track.class_name, track.class_id)
        if len(track.trail) > 1:
            points = np.round(np.asarray(track.trail)).astype(np.int32).reshape(-1, 1, 2)
            cv2.polylines(out, [points], False, color, max(1, thick - 1), cv2.LINE_AA)
        x1, y1, x2, y2 = (int(round(v)) for v in track.box)
        if track.warning:
            cv2.rectangle(out, (x1, y1), (x2, y2), color, thick * 2 + 1, cv2.LINE_AA)
        tag = f"#{track.track_id}" if track.confirmed else f"#{track.track_id}?"
        text = track_text(track) if distance and track.measured else ""
        _label(out, f"{tag} {text}".strip(), (x1, y2 + int(14 * scale / 0.5)), scale,
               (255, 255, 255) if track.warning else (0, 0, 0), color)
    banner = banner_text(track_frame)
    if banner:
        bscale = _text_scale(out, style.hud_font_scale * 1.2)
        (tw, th), base = cv2.getTextSize(banner, FONT, bscale, 2)
        x = max(0, (out.shape[1] - tw) // 2)
        y = th + base + 40
        cv2.rectangle(out, (x - 10, y - th - 10), (x + tw + 10, y + base + 6), tuple(warning_color), -1)
        cv2.putText(out, banner, (x, y), FONT, bscale, (255, 255, 255), 2, cv2.LINE_AA)
    if distance and not track_frame.geometry and track_frame.tracks:
        _label(out, track_frame.geometry_note, (6, h - 8), _text_scale(out, style.font_scale), (255, 255, 255),
               (60, 60, 60))


def nearest_text(track_frame) -> str:
    """The viewer's "Nearest" line: the nearest confirmed, plausible track, and a warning when one is raised."""
    if not track_frame.geometry:
        return "distances and TTC unavailable: open a calibration"
    nearest = track_frame.nearest()
    if nearest is None:
        text = "no confirmed vehicle on the road"
    else:
        text = f"{nearest.class_name} at {nearest.distance_m:.1f} m"
        if nearest.closing_speed_mps is not None:
            text += f", closing {round(nearest.closing_speed_mps, 1) + 0.0:+.1f} m/s"
        if nearest.ttc_s is not None:
            text += f", TTC {nearest.ttc_s:.1f} s"
    banner = banner_text(track_frame)
    return f"⚠ {banner}\n{text}" if banner else text
