"""Every reader on a tiny generated fixture, the config factory, mixing, and the batch format."""

import base64
import json
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from core.config import ConfigError
from nets.config import CONFIG_DIR, load_yaml
from train.datasets import (
    CamVidDataset,
    KittiObjectDataset,
    KittiRoadDataset,
    LabelmeDataset,
    MixedDataset,
    YoloTxtDataset,
    build_dataset,
)
from train.sample import IGNORE, Sample, collate

INPUT = (64, 96)  # network (height, width)
CLASSES = ["car", "pedestrian", "cyclist"]
MODEL = dict(input_size=INPUT, road_classes=["road"], class_names=CLASSES)
AUGMENT = dict(scale=[0.8, 1.25], flip_prob=0.5, hsv_h=0.015, hsv_s=0.5, hsv_v=0.3,
               min_box_visibility=0.3, min_box_size=2)
H, W = 60, 80  # source frame size of the fixtures


def write_png(path: Path, array: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    assert cv2.imwrite(str(path), array)


def frame(seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 255, (H, W, 3), dtype=np.uint8)


# --- fixtures: each writes one dataset format into tmp_path -------------------------------------

def camvid_label() -> np.ndarray:
    """Sky on top, void strip, road at the bottom; one car (8) and one pedestrian (9) region."""
    label = np.zeros((H, W), np.uint8)
    label[20:25] = 11  # void
    label[40:] = 3  # road
    label[30:45, 10:30] = 8  # car: columns 10..29, rows 30..44
    label[28:50, 50:56] = 9  # pedestrian: columns 50..55, rows 28..49
    return label


def make_camvid(root: Path, with_lists: bool = True) -> Path:
    for split, count in (("train", 3), ("val", 1)):
        lines = []
        for i in range(count):
            write_png(root / split / f"0001TP_{i:06d}.png", frame(i))
            write_png(root / f"{split}annot" / f"0001TP_{i:06d}.png", camvid_label())
            lines.append(f"/SegNet/CamVid/{split}/0001TP_{i:06d}.png /SegNet/CamVid/{split}annot/0001TP_{i:06d}.png")
        if with_lists:
            (root / f"{split}.txt").write_text("\n".join(lines) + "\n")
    return root


CAMVID_CFG = dict(type="camvid", road_class_ids={"road": [3]}, void_ids=[11],
                  box_class_ids={"car": [8], "pedestrian": [9], "cyclist": [10]}, min_box_area=20)

MAGENTA, RED, BLACK = (255, 0, 255), (0, 0, 255), (0, 0, 0)  # BGR


def kitti_gt(positive_rows: slice) -> np.ndarray:
    gt = np.zeros((H, W, 3), np.uint8)  # black: void
    gt[20:] = RED  # valid negative
    gt[positive_rows] = MAGENTA
    return gt


def make_kitti_road(root: Path) -> Path:
    images, gt = root / "training" / "image_2", root / "training" / "gt_image_2"
    for name in ("um_000000", "um_000001", "uu_000000"):
        write_png(images / f"{name}.png", frame())
    write_png(gt / "um_road_000000.png", kitti_gt(slice(40, None)))
    write_png(gt / "um_lane_000000.png", kitti_gt(slice(50, None)))
    write_png(gt / "uu_road_000000.png", kitti_gt(slice(45, None)))
    return root  # um_000001 has no mask


KITTI_LABELS = """Car 0.00 0 -1.5 10.5 20.0 30.5 40.0 1.5 1.6 3.9 -3.0 1.7 20.0 -1.6
Van 0.00 1 -1.5 40.0 10.0 60.0 30.0 2.0 1.8 4.5 2.0 1.7 25.0 -1.6
Pedestrian 0.00 0 0.2 65.0 15.0 72.0 45.0 1.7 0.6 0.8 4.0 1.7 15.0 0.1
Truck 0.00 0 0.2 0.0 0.0 20.0 10.0 3.0 2.5 8.0 4.0 1.7 40.0 0.1
DontCare -1 -1 -10 50.0 50.0 79.0 59.0 -1 -1 -1 -1000 -1000 -1000 -10
"""


def make_kitti_object(root: Path, frames: int = 5) -> Path:
    for i in range(frames):
        write_png(root / "training" / "image_2" / f"{i:06d}.png", frame(i))
        (root / "training" / "label_2").mkdir(parents=True, exist_ok=True)
        (root / "training" / "label_2" / f"{i:06d}.txt").write_text(KITTI_LABELS)
    return root


KITTI_CLASS_MAP = {"Car": "car", "Van": "car", "Pedestrian": "pedestrian", "Person_sitting": "pedestrian",
                   "Cyclist": "cyclist"}


def make_yolo(root: Path) -> Path:
    write_png(root / "images" / "train" / "a.png", frame(1))
    write_png(root / "images" / "train" / "b.png", frame(2))  # no label file: background
    (root / "labels" / "train").mkdir(parents=True)
    # a car box centred at (40, 30) of 20 x 10 px; a polygon cyclist; a class (3) the model lacks
    (root / "labels" / "train" / "a.txt").write_text(
        "0 0.5 0.5 0.25 0.1666667\n2 0.1 0.1 0.2 0.1 0.15 0.5\n3 0.5 0.5 0.1 0.1\n")
    return root


YOLO_NAMES = ["car", "pedestrian", "cyclist", "traffic_light"]


def make_labelme(root: Path) -> Path:
    root.mkdir(parents=True)
    write_png(root / "a.png", frame(3))
    shapes = [
        {"label": "road", "shape_type": "polygon", "points": [[0, 40], [79, 40], [79, 59], [0, 59]]},
        {"label": "hood", "shape_type": "rectangle", "points": [[0, 55], [80, 60]]},  # void
        {"label": "car", "shape_type": "rectangle", "points": [[10, 20], [30, 35]]},
        {"label": "person", "shape_type": "polygon", "points": [[50, 10], [56, 10], [53, 40]]},
        {"label": "tree", "shape_type": "polygon", "points": [[0, 0], [5, 0], [5, 5]]},  # not a label we use
    ]
    (root / "a.json").write_text(json.dumps({"imagePath": "a.png", "shapes": shapes}))
    ok, png = cv2.imencode(".png", frame(4))
    (root / "b.json").write_text(json.dumps({"imagePath": "missing.png", "shapes": [],
                                             "imageData": base64.b64encode(png.tobytes()).decode()}))
    return root


LABELME_OPTIONS = dict(road_labels={"road": ["road"]}, void_labels=["hood"],
                       box_labels={"car": ["car"], "pedestrian": ["person"]})


# --- readers ------------------------------------------------------------------------------------

def test_camvid_reads_road_void_and_derived_boxes(tmp_path):
    root = make_camvid(tmp_path / "camvid")
    ds = build_dataset({**CAMVID_CFG, "root": str(root)}, "train", augment=False, **MODEL)
    assert isinstance(ds, CamVidDataset) and len(ds) == 3 and ds.boxes_are_derived
    raw = ds.load(0)
    label = camvid_label()
    expected = np.where(label == 3, 1, np.where(label == 11, IGNORE, 0))
    np.testing.assert_array_equal(raw.road[0], expected)
    assert {(int(c), *b.tolist()) for b, c in zip(raw.boxes, raw.classes, strict=True)} == {(0, 10, 30, 30, 45),
                                                                               (1, 50, 28, 56, 50)}
    np.testing.assert_array_equal(raw.image, frame(0))
    out = ds[0]
    assert out.image.shape == (*INPUT, 3) and out.road.shape == (1, *INPUT) and len(out.boxes) == 2


def test_camvid_without_list_files_globs_the_folders(tmp_path):
    root = make_camvid(tmp_path / "camvid", with_lists=False)
    ds = CamVidDataset(root, "val", road_class_ids={"road": [3]}, **MODEL)
    assert len(ds) == 1 and ds.frames[0][1] == root / "valannot" / "0001TP_000000.png"
    assert ds.load(0).boxes is None and not ds.has_box_labels  # no box_class_ids: road only


def test_camvid_road_class_it_lacks_is_void(tmp_path):
    root = make_camvid(tmp_path / "camvid")
    ds = build_dataset({**CAMVID_CFG, "root": str(root)}, "train", augment=False,
                       input_size=INPUT, road_classes=["road", "lane"], class_names=CLASSES)
    road = ds.load(0).road
    assert road.shape == (2, H, W) and np.all(road[1] == IGNORE) and (road[0] == 1).any()


def test_kitti_road_decodes_colours_and_lane(tmp_path):
    root = make_kitti_road(tmp_path / "kitti")
    ds = KittiRoadDataset(root, "all", input_size=INPUT, road_classes=["road", "lane"], class_names=CLASSES)
    assert [Path(p).name for p, _ in ds.frames] == ["um_000000.png", "uu_000000.png"]  # um_000001: no mask
    road = ds.load(0).road
    assert road[0, :20].max() == IGNORE and np.all(road[0, 20:40] == 0) and np.all(road[0, 40:] == 1)
    assert np.all(road[1, 20:50] == 0) and np.all(road[1, 50:] == 1)
    uu = ds.load(1)
    assert np.all(uu.road[1] == IGNORE)  # no lane mask for UU
    assert uu.boxes is None and uu.classes is None


def test_kitti_road_keeps_unlabelled_frames_when_asked(tmp_path):
    root = make_kitti_road(tmp_path / "kitti")
    ds = KittiRoadDataset(root, "all", include_unlabelled=True, **MODEL)
    names = [Path(p).name for p, _ in ds.frames]
    assert names == ["um_000000.png", "um_000001.png", "uu_000000.png"]
    assert ds.load(1).road is None and ds[1].road is None
    # every 2nd frame is val
    val = KittiRoadDataset(root, "val", include_unlabelled=True, val_every=2, **MODEL)
    assert [Path(p).name for p, _ in val.frames] == ["um_000001.png"]


def test_kitti_object_maps_types_and_ignores_the_rest(tmp_path):
    root = make_kitti_object(tmp_path / "kitti_object")
    ds = build_dataset({"type": "kitti_object", "root": str(root), "class_map": KITTI_CLASS_MAP}, "all",
                       augment=False, **MODEL)
    raw = ds.load(0)
    assert raw.road is None and not ds.boxes_are_derived
    assert raw.classes.tolist() == [0, 0, 1]  # Car, Van → car; Pedestrian; Truck and DontCare left out
    np.testing.assert_allclose(raw.boxes, [[10.5, 20, 30.5, 40], [40, 10, 60, 30], [65, 15, 72, 45]])
    train = build_dataset({"type": "kitti_object", "root": str(root), "class_map": KITTI_CLASS_MAP,
                           "val_every": 5}, "train", augment=False, **MODEL)
    assert len(train) == 4


def test_kitti_object_bad_line_names_file_and_line(tmp_path):
    root = make_kitti_object(tmp_path / "kitti_object", frames=1)
    (root / "training" / "label_2" / "000000.txt").write_text("Car 0 0 0 1 2\n")
    ds = KittiObjectDataset(root, "all", class_map=KITTI_CLASS_MAP, **MODEL)
    with pytest.raises(ValueError, match=r"000000\.txt:1"):
        ds.load(0)


def test_yolo_txt_boxes_in_pixels_and_background_images(tmp_path):
    root = make_yolo(tmp_path / "yolo")
    ds = build_dataset({"type": "yolo", "root": str(root), "names": YOLO_NAMES}, "train", augment=False, **MODEL)
    raw = ds.load(0)
    assert raw.classes.tolist() == [0, 2]  # traffic_light is not a model class
    np.testing.assert_allclose(raw.boxes, [[30, 25, 50, 35], [8, 6, 16, 30]], atol=1e-3)
    empty = ds.load(1)
    assert empty.boxes.shape == (0, 4) and empty.classes.shape == (0,)  # labelled, no objects
    assert ds[1].boxes.shape == (0, 4)


def test_yolo_txt_class_outside_names_is_an_error(tmp_path):
    root = make_yolo(tmp_path / "yolo")
    ds = YoloTxtDataset(root, "train", **MODEL)  # names default to the model's 3 classes: index 3 is foreign
    with pytest.raises(ValueError, match=r"a\.txt:3.*class index 3"):
        ds.load(0)


def test_labelme_polygons_to_masks_and_boxes(tmp_path):
    root = make_labelme(tmp_path / "labelme")
    ds = LabelmeDataset(root, "all", **LABELME_OPTIONS, **MODEL)
    raw = ds.load(0)
    road = raw.road[0]
    assert np.all(road[:40] == 0) and np.all(road[40:55] == 1) and np.all(road[55:] == IGNORE)
    assert raw.classes.tolist() == [0, 1]
    np.testing.assert_allclose(raw.boxes, [[10, 20, 30, 35], [50, 10, 56, 40]])
    embedded = ds.load(1)  # image from imageData, no shapes: road all negative, no boxes
    np.testing.assert_array_equal(embedded.image, frame(4))
    assert np.all(embedded.road == 0) and embedded.boxes.shape == (0, 4)


# --- factory, mixing, batches -------------------------------------------------------------------

def test_shipped_data_configs_build_with_augmentation(tmp_path):
    camvid = make_camvid(tmp_path / "camvid")
    kitti = make_kitti_road(tmp_path / "kitti")
    for name, root in (("camvid", camvid), ("kitti_road", kitti)):
        cfg = {**load_yaml(CONFIG_DIR / "data" / f"{name}.yaml"), "root": str(root)}
        ds = build_dataset(cfg, "val" if name == "camvid" else "all", augment=True, **MODEL)
        out = ds[0]
        assert out.image.shape == (*INPUT, 3) and out.road.shape == (1, *INPUT)


def test_mix_collates_into_the_engine_batch(tmp_path):
    cfg = {"augment": AUGMENT, "datasets": [
        {**CAMVID_CFG, "root": str(make_camvid(tmp_path / "camvid"))},
        {"type": "kitti_object", "root": str(make_kitti_object(tmp_path / "ko")), "class_map": KITTI_CLASS_MAP,
         "splits": {"train": "all"}},
        {"type": "kitti_road", "root": str(make_kitti_road(tmp_path / "kr")), "splits": {"train": "all"}},
    ]}
    ds = build_dataset(cfg, "train", augment=True, **MODEL)
    assert isinstance(ds, MixedDataset) and len(ds) == 3 + 5 + 2 and ds.boxes_are_derived
    camvid, kitti_object, kitti_road = ds[0], ds[3], ds[8]
    assert kitti_object.road is None and kitti_road.boxes is None
    batch = ds.collate_fn([camvid, kitti_object, kitti_road])

    assert batch["img"].shape == (3, 3, *INPUT) and batch["img"].dtype == torch.float32
    assert 0 <= batch["img"].min() and batch["img"].max() <= 1
    # BGR → RGB: channel 0 of img is the red channel of the image
    np.testing.assert_allclose(batch["img"][0, 0].numpy(), camvid.image[:, :, 2] / 255.0, atol=1e-6)
    assert batch["road"].shape == (3, 1, *INPUT) and batch["road"].dtype == torch.uint8
    assert torch.all(batch["road"][1] == IGNORE)  # no road label: ignored everywhere
    assert batch["has_road"].tolist() == [True, False, True]
    assert batch["has_boxes"].tolist() == [True, True, False]
    m = len(camvid.boxes) + len(kitti_object.boxes)
    assert batch["batch_idx"].shape == (m,) and batch["cls"].shape == (m, 1) and batch["bboxes"].shape == (m, 4)
    assert set(batch["batch_idx"].tolist()) <= {0.0, 1.0}  # the road-only sample adds no targets
    assert batch["cls"][batch["batch_idx"] == 1].flatten().tolist() == kitti_object.classes.tolist()
    assert batch["source"][1].endswith(".png")


def test_batch_targets_are_what_the_ultralytics_loss_reads():
    """Feed the targets through v8DetectionLoss.preprocess: it must give back the pixel xyxy boxes."""
    from ultralytics.utils.loss import v8DetectionLoss

    image = np.zeros((*INPUT, 3), np.uint8)
    boxes_a = np.array([[10, 5, 30, 25], [40, 20, 90, 60]], np.float32)
    boxes_c = np.array([[0, 0, 96, 64]], np.float32)
    samples = [Sample(image, None, boxes_a, np.array([2, 0]), "a"),
               Sample(image, None, np.zeros((0, 4), np.float32), np.zeros(0, np.int64), "b"),
               Sample(image, None, boxes_c, np.array([1]), "c")]
    batch = collate(samples, road_channels=1)
    loss = v8DetectionLoss.__new__(v8DetectionLoss)  # only preprocess() is used; it needs no model
    loss.device = torch.device("cpu")
    targets = torch.cat((batch["batch_idx"].view(-1, 1), batch["cls"].view(-1, 1), batch["bboxes"]), 1)
    h, w = INPUT
    out = v8DetectionLoss.preprocess(loss, targets, 3, scale_tensor=torch.tensor([w, h, w, h], dtype=torch.float32))
    assert out.shape == (3, 2, 5)
    torch.testing.assert_close(out[0, :, 0], torch.tensor([2.0, 0.0]))
    torch.testing.assert_close(out[0, :, 1:], torch.from_numpy(boxes_a))
    assert torch.all(out[1] == 0)  # image b: only padding
    torch.testing.assert_close(out[2, 0, 1:], torch.from_numpy(boxes_c[0]))


def test_augmentation_is_seeded_by_epoch_and_index(tmp_path):
    root = make_camvid(tmp_path / "camvid")
    ds = build_dataset({**CAMVID_CFG, "root": str(root), "augment": AUGMENT}, "train", augment=True, **MODEL)
    first = ds[0].image
    np.testing.assert_array_equal(ds[0].image, first)
    ds.set_epoch(1)
    assert not np.array_equal(ds[0].image, first)


def test_config_path_and_run_seed(tmp_path):
    root = make_camvid(tmp_path / "camvid")
    path = tmp_path / "camvid.yaml"
    path.write_text(json.dumps({**CAMVID_CFG, "root": str(root), "augment": AUGMENT, "seed": 1}))  # JSON is YAML
    by_path = build_dataset(str(path), "train", augment=True, **MODEL)
    assert by_path.seed == 1 and len(by_path) == 3
    seeded = build_dataset(path, "train", augment=True, seed=5, **MODEL)
    assert seeded.seed == 5 and not np.array_equal(seeded[0].image, by_path[0].image)


# --- errors -------------------------------------------------------------------------------------

def test_missing_root_names_the_path(tmp_path):
    with pytest.raises(FileNotFoundError, match=str(tmp_path / "nowhere")):
        build_dataset({**CAMVID_CFG, "root": str(tmp_path / "nowhere")}, "train", augment=False, **MODEL)


def test_empty_split_names_split_and_folder(tmp_path):
    root = make_camvid(tmp_path / "camvid", with_lists=False)
    (root / "test").mkdir()
    (root / "testannot").mkdir()
    with pytest.raises(FileNotFoundError, match=r"split 'test' is empty.*camvid"):
        CamVidDataset(root, "test", **MODEL)
    kitti = make_kitti_road(tmp_path / "kitti")
    with pytest.raises(FileNotFoundError, match="include_unlabelled"):
        KittiRoadDataset(kitti, "all", categories=["umm"], **MODEL)


@pytest.mark.parametrize("change, message", [
    ({"type": "cityscapes"}, "unknown dataset type 'cityscapes'"),
    ({"min_area": 10}, r"unknown key 'min_area' \(did you mean 'min_box_area'\?\)"),
    ({"box_class_ids": {"truck": [8]}}, "none of the dataset's classes"),
])
def test_bad_config_is_named(tmp_path, change, message):
    root = make_camvid(tmp_path / "camvid")
    with pytest.raises(ValueError, match=message):
        build_dataset({**CAMVID_CFG, "root": str(root), **change}, "train", augment=False, **MODEL)


def test_augmenting_without_settings_is_an_error(tmp_path):
    root = make_camvid(tmp_path / "camvid")
    with pytest.raises(ValueError, match="no 'augment' settings"):
        build_dataset({**CAMVID_CFG, "root": str(root)}, "train", augment=True, **MODEL)


def test_mismatched_label_size_names_both_files(tmp_path):
    root = make_camvid(tmp_path / "camvid")
    write_png(root / "trainannot" / "0001TP_000000.png", np.zeros((10, 10), np.uint8))
    ds = CamVidDataset(root, "train", road_class_ids={"road": [3]}, **MODEL)
    with pytest.raises(ValueError, match="trainannot/0001TP_000000.png.*differs"):
        ds.load(0)


def test_sample_contract_is_checked():
    image = np.zeros((8, 8, 3), np.uint8)
    with pytest.raises(ValueError, match="bad.png: road mask"):
        Sample(image, np.zeros((1, 4, 4), np.uint8), None, None, "bad.png")
    with pytest.raises(ValueError, match="both"):
        Sample(image, None, np.zeros((0, 4), np.float32), None, "bad.png")
    with pytest.raises(ValueError, match="float32"):
        Sample(image, None, np.zeros((1, 4)), np.zeros(1, np.int64), "bad.png")


def test_collate_refuses_what_it_cannot_batch():
    a = Sample(np.zeros((8, 8, 3), np.uint8), None, None, None, "a")
    b = Sample(np.zeros((8, 16, 3), np.uint8), None, None, None, "b")
    with pytest.raises(ValueError, match="road_channels"):
        collate([a])
    with pytest.raises(ValueError, match="'b'"):
        collate([a, b], road_channels=1)
    batch = collate([a], road_channels=2)
    assert batch["road"].shape == (1, 2, 8, 8) and torch.all(batch["road"] == IGNORE)
    assert batch["bboxes"].shape == (0, 4) and batch["cls"].shape == (0, 1) and batch["batch_idx"].shape == (0,)


# --- copy-paste: the CamVid reader as a donor (train/copy_paste.py; the pasting itself: test_copy_paste.py) ---
def camvid_with_cyclist(root):
    """The fixture CamVid (tests/test_datasets.py) plus a cyclist (10) in train frame 2, nowhere else."""
    import cv2

    make_camvid(root)
    path = root / "trainannot" / "0001TP_000002.png"
    label = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    label[5:20, 65:72] = 10
    assert cv2.imwrite(str(path), label)
    return root


def test_camvid_frames_receive_cyclists_from_the_frame_that_has_one(tmp_path):
    root = camvid_with_cyclist(tmp_path / "camvid")
    cfg = {**CAMVID_CFG, "root": str(root), "splits": {"train": "train"},
           "augment": {**AUGMENT, "scale": [1.0, 1.0], "flip_prob": 0.0, "copy_paste": 1.0,
                       "copy_paste_classes": ["cyclist"]}}
    ds = build_dataset(cfg, "train", augment=True, **MODEL)
    assert ds.paste_donors() == [2]
    for i in (0, 1):  # the frames without a cyclist get frame 2's, boxed where it stood
        s = ds[i]
        assert s.source.endswith("+ objects of frame 2") and s.classes.tolist().count(2) == 1
    assert ds[2].classes.tolist().count(2) == 1  # the donor itself receives nothing: its one cyclist only
    off = build_dataset({**cfg, "augment": {**cfg["augment"], "copy_paste": 0.0}}, "train", augment=True, **MODEL)
    assert 2 not in off[0].classes.tolist()


def test_an_unknown_class_to_paste_names_the_closest_one(tmp_path):
    cfg = {**CAMVID_CFG, "root": str(make_camvid(tmp_path / "camvid")),
           "augment": {**AUGMENT, "copy_paste": 0.5, "copy_paste_classes": ["cyclists"]}}
    with pytest.raises(ConfigError, match="cyclist"):
        build_dataset(cfg, "train", augment=True, **MODEL)
