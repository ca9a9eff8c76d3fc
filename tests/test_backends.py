"""One result from every backend: shared pre/post-processing, PyTorch vs ONNX Runtime parity, clear errors."""

import cv2
import numpy as np
import pytest
import torch

from nets.backends.base import BackendUnavailableError
from nets.backends.onnxruntime_backend import OnnxRuntimeBackend
from nets.config import DEFAULT_WEIGHTS, SAMPLE_CLIP, load_model_config
from nets.deploy.onnx_export import export_onnx
from nets.model import PerceptionNet
from nets.postprocess import boxes_to_original, detections_from_output
from nets.predictor import load_predictor
from nets.preprocess import Letterbox, to_input_tensor
from nets.weights import WeightsError, load_model, save_checkpoint

THREADS_AT_START = torch.get_num_threads()


def sample_frame(index: int = 10) -> np.ndarray:
    """A real dash-cam frame from the bundled clip."""
    cap = cv2.VideoCapture(str(SAMPLE_CLIP))
    cap.set(cv2.CAP_PROP_POS_FRAMES, index)
    ok, frame = cap.read()
    cap.release()
    assert ok, f"cannot read {SAMPLE_CLIP}"
    return frame


@pytest.fixture(scope="module")
def weights():
    """The bundled trained weights (real boxes on a real frame) and the app's default threshold."""
    assert DEFAULT_WEIGHTS.is_file(), f"{DEFAULT_WEIGHTS} is part of the repository"
    return DEFAULT_WEIGHTS, 0.25


@pytest.fixture(scope="module")
def onnx_file(weights, tmp_path_factory):
    return export_onnx(load_model(weights[0]), tmp_path_factory.mktemp("onnx") / "model.onnx")


def test_letterbox_roundtrip_maps_boxes_back():
    lb = Letterbox.fit((720, 1280), (384, 640))
    assert lb.gain == 0.5 and lb.new_shape == (360, 640) and lb.pad == (0, 12)
    # a box at (100, 200)-(300, 400) in the frame sits at (50, 112)-(150, 212) in the network input
    net_box = np.array([[50, 112, 150, 212, 0.9, 1]], dtype=np.float32)
    back = boxes_to_original(net_box, lb)
    np.testing.assert_allclose(back[0, :4], [100, 200, 300, 400], atol=1e-4)
    assert back[0, 4] == pytest.approx(0.9) and back[0, 5] == 1


def test_preprocess_pads_grey_and_scales_to_unit_range():
    frame = np.full((375, 1242, 3), 255, np.uint8)
    batch, (lb,) = to_input_tensor([frame], (384, 640))
    assert batch.shape == (1, 3, 384, 640) and batch.dtype == np.float32
    top = lb.pad[1]
    assert top > 0
    assert np.allclose(batch[0, :, : top - 1], 114 / 255)  # letterbox bars
    assert np.allclose(batch[0, :, top + 1 : top + lb.new_shape[0] - 1], 1.0)  # the white frame


def test_road_map_returns_at_original_size():
    lb = Letterbox.fit((375, 1242), (384, 640))
    maps = np.zeros((1, 384, 640), np.float32)
    top, nh = lb.pad[1], lb.new_shape[0]
    maps[0, top : top + nh // 2] = 1.0  # upper half of the content is road
    out = lb.unpad_map(maps)
    assert out.shape == (1, 375, 1242)
    assert out[0, :180].mean() > 0.98 and out[0, 195:].mean() < 0.02


@pytest.mark.parametrize("stride", [1, 4])
def test_unpad_map_samples_each_pixel_centre_on_any_grid(stride):
    # a map whose value is the network x (then y) coordinate of each grid cell's centre: bilinear
    # sampling is exact on a linear ramp, so every original pixel must read back the network
    # coordinate of its own centre, (x0 + 0.5) * gain + pad, from a full-size or a stride-4 grid
    lb = Letterbox.fit((375, 1242), (384, 640))
    h, w = 384 // stride, 640 // stride
    ramp_x = np.tile((np.arange(w, dtype=np.float32) + 0.5) * stride, (h, 1))
    ramp_y = np.tile(((np.arange(h, dtype=np.float32) + 0.5) * stride)[:, None], (1, w))
    out = lb.unpad_map(np.stack([ramp_x, ramp_y]))
    assert out.shape == (2, 375, 1242)
    (gain_h, gain_w), (left, top) = lb.ratio_pad
    x_expected = (np.arange(1242) + 0.5) * gain_w + left
    y_expected = (np.arange(375) + 0.5) * gain_h + top
    inner_x = slice(8, -8)  # the outermost half grid cell clamps to the edge (replicate border)
    np.testing.assert_allclose(out[0, 100, inner_x], x_expected[inner_x], atol=1e-3)
    np.testing.assert_allclose(out[1, 8:-8, 300], y_expected[8:-8], atol=1e-3)


def test_unpad_map_rejects_a_grid_that_does_not_tile_the_input():
    with pytest.raises(ValueError, match="integer-stride grid"):
        Letterbox.fit((375, 1242), (384, 640)).unpad_map(np.zeros((1, 100, 100), np.float32))


def test_nms_on_a_hand_made_set():
    # raw head output (1, 4+nc, A) with xywh boxes: two overlapping cars, one separate pedestrian, one weak box
    boxes = [(100, 100, 40, 40), (102, 101, 40, 40), (300, 200, 20, 50), (500, 300, 30, 30)]
    scores = [(0.9, 0.0, 0.0), (0.8, 0.0, 0.0), (0.0, 0.7, 0.0), (0.1, 0.0, 0.0)]
    det = np.zeros((1, 7, 4), np.float32)
    for i, (b, s) in enumerate(zip(boxes, scores, strict=True)):
        det[0, :4, i], det[0, 4:, i] = b, s
    (out,) = detections_from_output(det, conf=0.25, iou=0.5)
    assert out.shape == (2, 6)
    np.testing.assert_allclose(out[0], [80, 80, 120, 120, 0.9, 0], atol=1e-5)  # the stronger car survives
    np.testing.assert_allclose(out[1], [290, 175, 310, 225, 0.7, 1], atol=1e-5)


def _unambiguous(boxes: np.ndarray, cut: float) -> np.ndarray:
    boxes = boxes[boxes[:, 4] > cut]
    gaps = np.abs(boxes[:, 4][:, None] - boxes[:, 4][None, :]) + np.eye(len(boxes))
    return boxes[gaps.min(1) > 1e-3] if len(boxes) > 1 else boxes


def _match(a: np.ndarray, b: np.ndarray) -> float:
    """Smallest IoU between each box of `a` and its best same-class box in `b` (1.0 when both empty)."""
    if len(a) == 0 and len(b) == 0:
        return 1.0
    from ultralytics.utils.metrics import box_iou

    iou = box_iou(torch.from_numpy(a[:, :4]), torch.from_numpy(b[:, :4])).numpy()
    iou[a[:, 5][:, None] != b[:, 5][None, :]] = 0
    return float(min(iou.max(1).min(), iou.max(0).min()))


def test_torch_and_onnxruntime_agree_on_a_real_frame(weights, onnx_file):
    path, conf = weights
    frame = sample_frame()
    ref = load_predictor(path, backend="torch", conf=conf)(frame)
    ort = load_predictor(onnx_file, backend="onnxruntime", conf=conf)(frame)
    assert ref.road_probs.shape == ort.road_probs.shape == (1, *frame.shape[:2])
    assert np.abs(ref.road_probs - ort.road_probs).max() <= 1e-3
    # identical boxes after NMS. Boxes whose score ties another's (flat image regions give identical anchors)
    # may be kept in either order by NMS, so compare the unambiguous ones, clearly above the threshold
    strong_ref, strong_ort = _unambiguous(ref.boxes, conf + 0.02), _unambiguous(ort.boxes, conf + 0.02)
    assert len(strong_ref) > 0, "no boxes to compare: the parity check would be empty"
    assert len(strong_ref) == len(strong_ort)
    assert _match(strong_ref, strong_ort) >= 0.99
    np.testing.assert_allclose(np.sort(strong_ref[:, 4]), np.sort(strong_ort[:, 4]), atol=1e-3)
    assert ref.backend == "torch" and ort.backend == "onnxruntime"
    assert set(ort.timings) == {"pre", "infer", "post"}


def test_auto_says_what_it_chose(weights, onnx_file):
    p = load_predictor(onnx_file, backend="auto")
    assert p.backend_name == "onnxruntime"  # no TensorRT on a CPU machine
    assert "auto chose onnxruntime" in p.choice_reason and "tensorrt" in p.choice_reason


def test_precision_auto_runs_the_int8_cpu_sibling_where_there_is_one(tiny_model_files, tmp_path):
    import shutil

    pt = shutil.copy(tiny_model_files[0], tmp_path / "n.pt")
    shutil.copy(tiny_model_files[1], tmp_path / "n.onnx")
    # only fp32 beside the checkpoint: auto runs it
    assert load_predictor(pt, backend="onnxruntime").backend.path.name == "n.onnx"
    shutil.copy(tmp_path / "n.onnx", tmp_path / "n.int8cpu.onnx")  # the file choice is what is under test here
    auto = load_predictor(pt, backend="onnxruntime")
    assert auto.backend.path.name == "n.int8cpu.onnx"
    assert load_predictor(pt, backend="auto").backend.path.name == "n.int8cpu.onnx"
    assert load_predictor(pt, backend="onnxruntime", precision="fp32").backend.path.name == "n.onnx"
    # an .onnx file runs as it is, whatever the precision says
    assert load_predictor(tmp_path / "n.onnx", backend="onnxruntime").backend.path.name == "n.onnx"
    with pytest.raises(BackendUnavailableError, match=r"n.fp16.onnx.*--precision fp16"):
        load_predictor(pt, backend="onnxruntime", precision="fp16")
    with pytest.raises(ValueError, match="unknown precision"):
        load_predictor(pt, precision="int4")


def test_a_non_torch_predictor_runs_its_nms_on_one_torch_thread_and_changes_nothing_else(weights, onnx_file,
                                                                                        monkeypatch):
    # torch only runs the NMS there; its idle OpenMP workers would spin on ONNX Runtime's cores
    import nets.predictor

    real_nms = nets.predictor.detections_from_output
    seen = []

    def recording_nms(*args, **kwargs):
        seen.append(torch.get_num_threads())
        return real_nms(*args, **kwargs)

    monkeypatch.setattr(nets.predictor, "detections_from_output", recording_nms)
    torch.set_num_threads(2)
    try:
        ort = load_predictor(onnx_file, backend="onnxruntime")
        assert torch.get_num_threads() == 2  # opening a predictor leaves the process's setting alone
        ort(sample_frame())
        assert seen == [1] and torch.get_num_threads() == 2  # one thread for its NMS, then back
        load_predictor(weights[0], backend="torch")(sample_frame())
        assert seen == [1, 2]  # the torch backend keeps its threads throughout
    finally:
        torch.set_num_threads(THREADS_AT_START)


def test_missing_weights_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="missing.pt"):
        load_predictor(tmp_path / "missing.pt", backend="torch")
    with pytest.raises(WeightsError, match="not found"):
        load_model(tmp_path / "missing.pt")


def test_weights_of_another_architecture(tmp_path):
    small = PerceptionNet(load_model_config(input_size=[64, 96]))
    path = save_checkpoint(tmp_path / "n.pt", small)
    with pytest.raises(WeightsError, match="another architecture.*scale"):
        load_model(path, expect_config=load_model_config("configs/model/perception_s.yaml"))
    # a state dict that does not fit the declared architecture
    torch.save({"model_config": load_model_config("configs/model/perception_s.yaml"), "model": small.state_dict()},
               tmp_path / "mixed.pt")
    with pytest.raises(WeightsError, match="do not fit"):
        load_model(tmp_path / "mixed.pt")
    # an ultralytics / foreign checkpoint
    torch.save({"model": None, "train_args": {}}, tmp_path / "yolo.pt")
    with pytest.raises(WeightsError, match="not a perception checkpoint"):
        load_model(tmp_path / "yolo.pt")


def test_onnx_of_another_input_size(tiny_onnx, tmp_path):
    with pytest.raises(ValueError, match=r"exported for input 64x96 .* 384x640"):
        OnnxRuntimeBackend(tiny_onnx, expect_input_size=(384, 640))
    with pytest.raises(ValueError, match="cannot load"):
        (tmp_path / "junk.onnx").write_bytes(b"not an onnx file")
        OnnxRuntimeBackend(tmp_path / "junk.onnx")
    with pytest.raises(BackendUnavailableError, match="not found"):
        OnnxRuntimeBackend(tmp_path / "nope.onnx")


def test_bad_frames_are_refused(weights):
    p = load_predictor(weights[0], backend="torch")
    with pytest.raises(ValueError, match="uint8"):
        p(np.zeros((10, 10, 3), np.float32))
    with pytest.raises(ValueError, match="non-empty"):
        p(np.zeros((0, 10, 3), np.uint8))
