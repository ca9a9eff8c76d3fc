"""Augmentation keeps image, road mask and boxes together; letterbox matches inference."""

import cv2
import numpy as np
import pytest

from nets.preprocess import PAD_VALUE, Letterbox, scale_brightness
from train.augment import AugmentParams, augment, crop_boxes, letterbox_sample, mosaic
from train.sample import IGNORE, Sample

INPUT = (96, 160)  # network (height, width): the 4:3 fixture is padded left and right
GEOMETRY_ONLY = dict(scale=[0.6, 1.6], flip_prob=0.5, hsv_h=0.0, hsv_s=0.0, hsv_v=0.0,
                     min_box_visibility=0.3, min_box_size=2)
RED, BLUE, GREY = (0, 0, 220), (220, 0, 0), (90, 90, 90)


def params(**changes) -> AugmentParams:
    return AugmentParams.from_config({**GEOMETRY_ONLY, **changes})


def scene() -> Sample:
    """A 4:3 frame: blue road band (mask 1) at the bottom, one red car (box) on grey, void strip on top."""
    h, w = 120, 160
    image = np.full((h, w, 3), GREY, np.uint8)
    image[80:, :] = BLUE
    image[50:78, 60:100] = RED  # the car: columns 60..99, rows 50..77
    road = np.zeros((1, h, w), np.uint8)
    road[0, 80:, :] = 1
    road[0, :10, :] = IGNORE
    boxes = np.array([[60, 50, 100, 78]], np.float32)
    return Sample(image, road, boxes, np.array([0], np.int64), "scene")


def red_pixels_bbox(image: np.ndarray):
    ys, xs = np.nonzero((image[:, :, 2] > 150) & (image[:, :, 0] < 80) & (image[:, :, 1] < 80))
    return (xs.min(), ys.min(), xs.max() + 1, ys.max() + 1) if len(xs) else None


@pytest.mark.parametrize("seed", range(40))
def test_boxes_stay_on_their_objects(seed):
    out = augment(scene(), INPUT, params(), np.random.default_rng(seed))
    assert out.image.shape == (*INPUT, 3) and out.road.shape == (1, *INPUT)
    red = red_pixels_bbox(out.image)
    if red is None:  # the crop cut the car out: its box must be gone too
        assert len(out.boxes) == 0
        return
    if len(out.boxes) == 0:  # only a sliver stayed visible (under min_box_visibility)
        return
    (x1, y1, x2, y2), = out.boxes
    # the box encloses the red pixels and is tight around them (1 px slack for resampling)
    assert x1 - 1 <= red[0] and y1 - 1 <= red[1] and red[2] <= x2 + 1 and red[3] <= y2 + 1
    assert red[0] <= x1 + 1 and red[1] <= y1 + 1 and x2 - 1 <= red[2] and y2 - 1 <= red[3]


@pytest.mark.parametrize("seed", range(20))
def test_road_mask_stays_aligned_with_the_image(seed):
    out = augment(scene(), INPUT, params(), np.random.default_rng(seed))
    blue = (out.image[:, :, 0] > 110) & (out.image[:, :, 2] < 110)  # halfway between blue and grey / red
    road = out.road[0]
    assert (road == 1).any()
    wrong = (blue & (road == 0)) | (~blue & (road == 1))
    # a mismatch may only sit on the road's edge (the resampled seam), at most one row of it
    kernel = np.ones((3, 3), np.uint8)
    edge = (cv2.dilate((road == 1).view(np.uint8), kernel) & cv2.dilate((road == 0).view(np.uint8), kernel)) > 0
    assert not (wrong & ~edge).any()
    assert wrong.sum() <= Letterbox.fit((120, 160), INPUT).new_shape[1]
    # padding: void in the mask, the inference grey in the image
    grey_pad = np.all(out.image == PAD_VALUE, axis=2)
    assert np.all(road[grey_pad] == IGNORE)


def test_zooming_out_pads_mask_with_void_and_keeps_box():
    out = augment(scene(), INPUT, params(scale=[0.5, 0.5], flip_prob=0), np.random.default_rng(0))
    assert (out.road == IGNORE).mean() > 0.5  # most of the input is padding now
    assert len(out.boxes) == 1


def test_flip_mirrors_image_mask_and_boxes():
    flipped = augment(scene(), INPUT, params(scale=[1, 1], flip_prob=1), np.random.default_rng(0))
    plain = letterbox_sample(scene(), INPUT)
    lb = Letterbox.fit((120, 160), INPUT)
    left, (_, nw) = lb.pad[0], lb.new_shape
    content = np.s_[:, left:left + nw]
    np.testing.assert_array_equal(flipped.image[content], plain.image[content][:, ::-1])
    np.testing.assert_array_equal(flipped.road[0][content], plain.road[0][content][:, ::-1])
    x1, y1, x2, y2 = plain.boxes[0]
    np.testing.assert_allclose(flipped.boxes[0], [2 * left + nw - x2, y1, 2 * left + nw - x1, y2], atol=1e-4)


def test_colour_jitter_changes_only_the_image():
    jittered = augment(scene(), INPUT, params(scale=[1, 1], flip_prob=0, hsv_h=0.5, hsv_s=0.7, hsv_v=0.4),
                       np.random.default_rng(3))
    plain = letterbox_sample(scene(), INPUT)
    assert not np.array_equal(jittered.image, plain.image)
    np.testing.assert_array_equal(jittered.road, plain.road)
    np.testing.assert_array_equal(jittered.boxes, plain.boxes)


def test_same_seed_same_view_other_seed_other_view():
    a = augment(scene(), INPUT, params(hsv_v=0.4), np.random.default_rng(7))
    b = augment(scene(), INPUT, params(hsv_v=0.4), np.random.default_rng(7))
    c = augment(scene(), INPUT, params(hsv_v=0.4), np.random.default_rng(8))
    np.testing.assert_array_equal(a.image, b.image)
    np.testing.assert_array_equal(a.boxes, b.boxes)
    assert not np.array_equal(a.image, c.image)


def test_letterbox_maps_boxes_by_gain_and_pad():
    s = scene()
    out = letterbox_sample(s, INPUT)
    lb = Letterbox.fit(s.image.shape[:2], INPUT)
    (gh, gw), (left, top) = lb.ratio_pad
    np.testing.assert_allclose(out.boxes[0], [60 * gw + left, 50 * gh + top, 100 * gw + left, 78 * gh + top])
    np.testing.assert_array_equal(out.image, lb.apply(s.image))  # exactly the inference input
    assert np.all(out.road[:, :, :left] == IGNORE) and np.all(out.image[:, :left] == PAD_VALUE)


def test_missing_labels_stay_missing():
    s = scene()
    bare = Sample(s.image, None, None, None, "bare")
    for out in (letterbox_sample(bare, INPUT), augment(bare, INPUT, params(), np.random.default_rng(0))):
        assert out.road is None and out.boxes is None and out.classes is None


def test_crop_drops_mostly_hidden_boxes_and_clips_the_rest():
    boxes = np.array([[0, 0, 10, 10], [8, 0, 18, 10], [15, 15, 25, 25]], np.float32)
    kept, classes = crop_boxes(boxes, np.array([0, 1, 2]), 10, 10, 20, 20, min_visibility=0.3)
    # window x 10..30, y 10..30: box 0 is outside, box 1 ends at y=10 where the window starts (no area),
    # box 2 is inside and moves by (-10, -10)
    assert classes.tolist() == [2]
    np.testing.assert_array_equal(kept, [[5, 5, 15, 15]])
    kept, classes = crop_boxes(boxes, np.array([0, 1, 2]), 10, 0, 20, 20, min_visibility=0.5)
    assert classes.tolist() == [1, 2]  # box 1 keeps 8 of its 10 columns
    np.testing.assert_array_equal(kept[0], [0, 0, 8, 10])


@pytest.mark.parametrize("change, message", [
    ({"flip_prob": 1.5}, "flip_prob"),
    ({"scale": [1.5, 0.5]}, "scale"),
    ({"scale": 1.0}, "scale"),
    ({"hsv_s": -0.1}, "hsv_s"),
    ({"mosaic": 1.5}, "mosaic"),
    ({"mosaics": 1.0}, "unknown"),
])
def test_bad_settings_name_the_key(change, message):
    with pytest.raises(ValueError, match=message):
        AugmentParams.from_config({**GEOMETRY_ONLY, **change})


def test_missing_setting_is_named():
    cfg = dict(GEOMETRY_ONLY)
    del cfg["min_box_size"]
    with pytest.raises(ValueError, match="min_box_size"):
        AugmentParams.from_config(cfg)


def test_mosaic_tiles_four_scenes_with_their_labels():
    # fixed zoom, no flip, no colour: each quadrant must be exactly its scene letterboxed to half the input
    fixed = params(scale=[1.0, 1.0], flip_prob=0.0)
    s = scene()
    shifted = Sample(np.roll(s.image, 20, axis=1), np.roll(s.road, 20, axis=2),
                     s.boxes + np.float32([20, 0, 20, 0]),
                     np.array([1], np.int64), "shifted")
    no_road = Sample(s.image, None, s.boxes, s.classes, "no road")
    samples = [s, shifted, no_road, s]
    out = mosaic(samples, INPUT, fixed, np.random.default_rng(0))
    h, w = INPUT
    th, tw = h // 2, w // 2
    assert out.image.shape == (h, w, 3) and out.road.shape == (1, h, w)
    corners = [(0, 0), (tw, 0), (0, th), (tw, th)]
    for sample, (x, y) in zip(samples, corners, strict=True):
        tile = letterbox_sample(sample, (th, tw))
        np.testing.assert_array_equal(out.image[y:y + th, x:x + tw], tile.image)
        expected_road = tile.road if tile.road is not None else np.full((1, th, tw), IGNORE, np.uint8)
        np.testing.assert_array_equal(out.road[:, y:y + th, x:x + tw], expected_road)
    expected_boxes = np.concatenate([letterbox_sample(smp, (th, tw)).boxes + [x, y, x, y]
                                     for smp, (x, y) in zip(samples, corners, strict=True)])
    np.testing.assert_allclose(out.boxes, expected_boxes, atol=1e-4)
    assert out.classes.tolist() == [0, 1, 0, 0]
    # every box still frames its red car in the tiled image
    for box in out.boxes:
        x0, y0, x1, y1 = np.round(box).astype(int)
        assert red_pixels_bbox(out.image[y0:y1, x0:x1]) is not None


def test_mosaic_without_box_labels_somewhere_has_none():
    s = scene()
    unlabelled = Sample(s.image, s.road, None, None, "no boxes")
    out = mosaic([s, s, unlabelled, s], INPUT, params(), np.random.default_rng(1))
    assert out.boxes is None and out.classes is None  # its cars would be taught as background
    assert out.road is not None
    with pytest.raises(ValueError, match="4 samples"):
        mosaic([s, s], INPUT, params(), np.random.default_rng(1))


def test_mosaic_is_optional_and_off_by_default():
    assert params().mosaic == 0.0
    assert params(mosaic=0.5).mosaic == 0.5


# --- the photometric / perspective extras ------------------------------------------------------------

PERSPECTIVE = dict(perspective=0.12)


@pytest.mark.parametrize("seed", range(20))
def test_perspective_jitter_keeps_box_and_mask_on_their_objects(seed):
    out = augment(scene(), INPUT, params(**PERSPECTIVE), np.random.default_rng(seed))
    assert out.image.shape == (*INPUT, 3) and out.road.shape == (1, *INPUT)
    red = red_pixels_bbox(out.image)
    if red is not None and len(out.boxes):
        (x1, y1, x2, y2), = out.boxes
        # the warped box is the bounding box of the warped car: it encloses the red pixels, 2 px slack
        assert x1 - 2 <= red[0] and y1 - 2 <= red[1] and red[2] <= x2 + 2 and red[3] <= y2 + 2
        assert red[0] <= x1 + 2 and red[1] <= y1 + 2 and x2 - 2 <= red[2] and y2 - 2 <= red[3]
    blue = (out.image[:, :, 0] > 110) & (out.image[:, :, 2] < 110)
    road = out.road[0]
    # two resamplings (warp, then letterbox) of a blended edge: mismatches may sit within 2 px of it
    kernel = np.ones((5, 5), np.uint8)
    edge = (cv2.dilate((road == 1).view(np.uint8), kernel) & cv2.dilate((road != 1).view(np.uint8), kernel)) > 0
    assert not ((blue & (road == 0)) & ~edge).any() and not ((~blue & (road == 1)) & ~edge).any()
    assert np.all(road[np.all(out.image == PAD_VALUE, axis=2) & ~edge] == IGNORE)  # warped-in border is void


def test_photometric_extras_change_only_the_image():
    base = augment(scene(), INPUT, params(), np.random.default_rng(3))
    extra = params(contrast=0.4, blur_prob=1.0, noise=10.0, jpeg_prob=1.0)
    out = augment(scene(), INPUT, extra, np.random.default_rng(3))
    # same geometry (the base draws come first), other pixels
    np.testing.assert_array_equal(out.road, base.road)
    np.testing.assert_array_equal(out.boxes, base.boxes)
    assert np.abs(out.image.astype(int) - base.image.astype(int)).mean() > 1
    # the same seed gives the same view
    again = augment(scene(), INPUT, extra, np.random.default_rng(3))
    np.testing.assert_array_equal(out.image, again.image)


def test_extras_off_leave_the_random_stream_of_older_recipes_alone():
    a = augment(scene(), INPUT, params(), np.random.default_rng(5))
    b = augment(scene(), INPUT, params(contrast=0.0, noise=0.0, perspective=0.0), np.random.default_rng(5))
    np.testing.assert_array_equal(a.image, b.image)


def test_blur_softens_edges():
    sharp = params(scale=[1.0, 1.0], flip_prob=0.0)
    soft = params(scale=[1.0, 1.0], flip_prob=0.0, blur_prob=1.0, blur_sigma=2.0)
    a = augment(scene(), INPUT, sharp, np.random.default_rng(0)).image.astype(float)
    b = augment(scene(), INPUT, soft, np.random.default_rng(0)).image.astype(float)
    # a blurred step keeps its total rise but spreads it: less gradient energy
    assert (np.diff(b, axis=0) ** 2).sum() < 0.8 * (np.diff(a, axis=0) ** 2).sum()


@pytest.mark.parametrize("change, message", [({"perspective": 1.5}, "perspective"), ({"noise": -1}, "noise"),
                                             ({"jpeg_quality": 0}, "jpeg_quality"), ({"blur_prob": 2}, "blur_prob")])
def test_bad_extra_settings_name_the_key(change, message):
    from core.errors import UserError

    with pytest.raises((ValueError, UserError), match=message):
        params(**change)


# --- exposure (dusk and over-exposed footage) ----------------------------------------------------------

def test_scale_brightness_is_an_exact_gain_clipped_at_white():
    image = np.array([[[0, 100, 200]]], np.uint8)
    np.testing.assert_array_equal(scale_brightness(image, 0.5), [[[0, 50, 100]]])
    np.testing.assert_array_equal(scale_brightness(image, 1.5), [[[0, 150, 255]]])


def test_exposure_gain_stays_in_its_range_and_changes_only_the_image():
    flat = dict(scale=[1.0, 1.0], flip_prob=0.0, hsv_h=0.0, hsv_s=0.0, hsv_v=0.0)
    base = augment(scene(), INPUT, params(**flat), np.random.default_rng(0))
    content = np.any(base.image != PAD_VALUE, axis=2) & (base.image.max(axis=2) > 20)
    ratios = []
    for seed in range(40):
        out = augment(scene(), INPUT, params(**flat, exposure=[0.4, 1.0]), np.random.default_rng(seed))
        np.testing.assert_array_equal(out.road, base.road)
        np.testing.assert_array_equal(out.boxes, base.boxes)
        ratios.append(out.image[content].astype(float).mean() / base.image[content].astype(float).mean())
    # rounding of the 8-bit values allows a little slack; the draws spread over the range, darker and brighter
    assert 0.4 - 0.02 <= min(ratios) < 0.55 and 0.85 < max(ratios) <= 1.0 + 0.02


def test_exposure_off_keeps_the_random_stream_and_bad_ranges_name_the_key():
    from core.errors import UserError

    a = augment(scene(), INPUT, params(contrast=0.2), np.random.default_rng(5))
    b = augment(scene(), INPUT, params(contrast=0.2, exposure=[1, 1]), np.random.default_rng(5))
    np.testing.assert_array_equal(a.image, b.image)
    for bad in ([0, 1], [1.2, 0.8], [0.5], "dark"):
        with pytest.raises((ValueError, UserError), match="exposure"):
            params(exposure=bad)


# --- cast shadows ------------------------------------------------------------------------------------------

def test_cast_shadows_darken_part_of_the_frame_within_the_strength_range():
    from train.augment import cast_shadows

    image = np.full((120, 160, 3), 200, np.uint8)
    for seed in range(20):
        out = cast_shadows(image, 0.6, np.random.default_rng(seed)).astype(float)
        ratio = out[..., 1] / 200  # green: darkened by the full factor
        shaded = ratio < 0.95
        # blobs cover up to half the frame, none of its top 30 % (the sky); the rest is untouched
        assert 0.02 < shaded.mean() < 0.6 and (ratio == 1).mean() > 0.4 and not shaded[:36].any()
        # the core of a blob is darkened by 0.3 … 0.6, never more
        assert 0.4 - 0.01 <= ratio.min() <= 0.7 + 0.01
        # skylight: blue is darkened less than green and red wherever there is shade
        assert np.all(out[shaded][:, 0] >= out[shaded][:, 1])


def test_shadows_change_only_the_image_and_keep_older_streams():
    base = augment(scene(), INPUT, params(contrast=0.2), np.random.default_rng(4))
    shaded = augment(scene(), INPUT, params(contrast=0.2, shadow_prob=1.0), np.random.default_rng(4))
    np.testing.assert_array_equal(shaded.road, base.road)
    np.testing.assert_array_equal(shaded.boxes, base.boxes)
    assert shaded.image.astype(float).mean() < base.image.astype(float).mean() - 1
    off = augment(scene(), INPUT, params(contrast=0.2, shadow_prob=0.0), np.random.default_rng(4))
    np.testing.assert_array_equal(off.image, base.image)  # drawn only when on: recipes without it are unchanged
    from core.errors import UserError

    for bad, key in (({"shadow_prob": 1.5}, "shadow_prob"), ({"shadow_strength": 1.0}, "shadow_strength")):
        with pytest.raises((ValueError, UserError), match=key):
            params(**bad)
