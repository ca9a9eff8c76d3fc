"""Deployment: FP16/INT8 ONNX files, calibration frames, engine cache keys, TensorRT buffer planning and guards.

Everything here runs on a CPU machine without TensorRT. The model is a small
(128x192) random-init PerceptionNet whose BatchNorm statistics are settled on
synthetic street-like frames: a plain random network outputs a flat road map
and no box, so any precision would "agree" with it; settled, its outputs vary
with the image and a precision error shows.

Tolerances, set with ~6 dB / 2-3x margin over what was measured on this model
(seed 0, 6 frames, ONNX Runtime 1.31 CPU; measured values in brackets):
  FP16 vs FP32: road max |diff| <= 0.03 [0.012], mean <= 3e-3 [1.2e-3], SQNR >= 44 dB [50.0];
     box coordinates SQNR >= 44 dB [50.7]; class scores max |diff| <= 0.02 [0.006]
  INT8 vs FP32, Q/DQ evaluated exactly (graph optimizations off: the arithmetic TensorRT implements):
     road SQNR >= 14 dB [18.1], mean |diff| <= 0.08 [0.047]; box coordinates SQNR >= 16 dB [20.8]
(SQNR: 10 log10(sum ref^2 / sum (ref - other)^2).) A random network, even this
tamed one, carries quantization noise to its outputs more than a trained one;
the INT8 bounds check "computes the same function", not deployed accuracy, which
benchmarks/precision_accuracy.py measures on real frames with trained weights.
"""

from __future__ import annotations

import json

import cv2
import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch
from onnx import numpy_helper

from nets.backends.base import BackendUnavailableError
from nets.backends.tensorrt_backend import IOBuffer, TensorRTBackend, check_input_size, plan_io_buffers, prepare_input
from nets.config import load_model_config
from nets.deploy import precision as prec
from nets.deploy.calibration_frames import calibration_batches, read_calibration_frames, spread_indices
from nets.deploy.engine import (
    asymmetric_quantizers,
    cached_engine_path,
    engine_cache_key,
    onnx_engine_metadata,
    sidecar_path,
)
from nets.deploy.onnx_export import export_onnx
from nets.model import PerceptionNet
from nets.preprocess import to_input_tensor
from nets.weights import save_checkpoint

INPUT_SIZE = (128, 192)


def street_frame(rng: np.random.Generator, h: int = 180, w: int = 320) -> np.ndarray:
    """A synthetic dash-cam-like BGR frame: sky gradient, grey road trapezoid, a few coloured boxes, noise."""
    img = np.zeros((h, w, 3), np.float32)
    img[:] = np.linspace(230, 120, h)[:, None, None] * np.array([1.0, 0.9, 0.7])  # sky → horizon
    horizon = int(h * rng.uniform(0.4, 0.55))
    cx = w * rng.uniform(0.35, 0.65)
    road = np.array([[cx - 10, horizon], [cx + 10, horizon], [w * 0.95, h], [w * 0.05, h]], np.int32)
    cv2.fillPoly(img, [road], tuple(float(v) for v in rng.uniform(70, 110, 3)))
    img[horizon:, :] *= rng.uniform(0.8, 1.0)
    for _ in range(rng.integers(1, 4)):
        x0, y0 = int(rng.uniform(0, w - 40)), int(rng.uniform(horizon - 10, h - 30))
        cv2.rectangle(img, (x0, y0), (x0 + int(rng.uniform(15, 50)), y0 + int(rng.uniform(12, 35))),
                      tuple(float(v) for v in rng.uniform(0, 255, 3)), -1)
    img += rng.normal(0, 6, img.shape)
    return np.clip(cv2.GaussianBlur(img, (3, 3), 0), 0, 255).astype(np.uint8)


def street_frames(n: int, seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [street_frame(rng) for _ in range(n)]


def settled_model(frames: list[np.ndarray]) -> PerceptionNet:
    """Random init, BatchNorm statistics settled on `frames`, then residual branches off; class scores spread.

    Settled, a random network's outputs vary with the image, but it amplifies
    any rounding ~30 dB from input to output (even FP16 moves boxes by pixels),
    far more than a trained network. Switching the residual branches off after
    settling (their last BatchNorm scale to 0) leaves a shallower, smooth
    function of the input, whose FP16 error (~50 dB SQNR) is like a trained model's.
    """
    from ultralytics.nn.modules.block import Bottleneck

    torch.manual_seed(0)
    model = PerceptionNet(load_model_config(input_size=list(INPUT_SIZE)))
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.reset_running_stats()
            m.momentum = None
    for branch in model.detect.cv3:
        branch[-1].bias.data.fill_(-5.0)
    model.road.logits.bias.data.fill_(0.0)
    x = torch.from_numpy(np.concatenate(list(calibration_batches(frames, INPUT_SIZE))))
    with torch.no_grad():
        model.train()
        model(x)
    for m in model.modules():  # after settling: see the docstring
        if isinstance(m, Bottleneck) and m.add:
            m.cv2.bn.weight.data.zero_()
    return model.eval()


def write_video(path, frames, fps=10) -> None:
    h, w = frames[0].shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, (w, h))
    assert writer.isOpened(), "OpenCV cannot write MJPG video here"
    for f in frames:
        writer.write(f)
    writer.release()


def run_onnx(path, batches, exact: bool = False):
    """(det, road) per batch; exact=True runs the graph as written (no fused int8 kernels)."""
    opts = ort.SessionOptions()
    if exact:
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    sess = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
    return [tuple(o.astype(np.float32) for o in sess.run(["det", "road"], {"images": x})) for x in batches]


def sqnr_db(ref: np.ndarray, other: np.ndarray) -> float:
    ref, other = ref.astype(np.float64), other.astype(np.float64)
    return float(10 * np.log10((ref ** 2).mean() / max(((ref - other) ** 2).mean(), 1e-30)))


# ----------------------------------------------------------------------------- fixtures

@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    return tmp_path_factory.mktemp("deploy")


@pytest.fixture(scope="module")
def calib_video(workdir):
    path = workdir / "calib.avi"
    write_video(path, street_frames(24, seed=1))
    return path


@pytest.fixture(scope="module")
def fp32_onnx(workdir):
    model = settled_model(street_frames(8, seed=2))
    save_checkpoint(workdir / "model.pt", model)
    return export_onnx(model, workdir / "model.onnx")


@pytest.fixture(scope="module")
def fp16_onnx(fp32_onnx):
    return prec.convert_fp16(fp32_onnx, prec.sibling_path(fp32_onnx, "fp16"), converter="onnxruntime")


@pytest.fixture(scope="module")
def int8_onnx(fp32_onnx, calib_video):
    return prec.quantize_int8(fp32_onnx, prec.sibling_path(fp32_onnx, "int8"), calib_video, calib_frames=12)


@pytest.fixture(scope="module")
def int8cpu_onnx(fp32_onnx, calib_video, workdir):
    return prec.quantize_int8(fp32_onnx, workdir / "cpu_target.int8cpu.onnx", calib_video, calib_frames=4,
                              target="cpu")  # not model.pt's sibling name: the export CLI test writes that


@pytest.fixture(scope="module")
def eval_batches():
    return list(calibration_batches(street_frames(6, seed=3), INPUT_SIZE))


@pytest.fixture(scope="module")
def fp32_outputs(fp32_onnx, eval_batches):
    return run_onnx(fp32_onnx, eval_batches)


# ----------------------------------------------------------------------------- calibration frames

def test_spread_indices_cover_the_source_evenly():
    assert spread_indices(100, 5) == [0, 25, 50, 74, 99]
    assert spread_indices(3, 10) == [0, 1, 2]
    assert spread_indices(7, 1) == [3]
    assert spread_indices(0, 4) == [] and spread_indices(5, 0) == []
    idx = spread_indices(1000, 64)
    assert len(set(idx)) == 64 and idx == sorted(idx) and idx[0] == 0 and idx[-1] == 999


def test_video_frames_are_read_spread_over_the_clip(tmp_path):
    # frame i is a flat grey of 8*i, so the frames read back tell which indices were taken
    frames = [np.full((96, 128, 3), 8 * i, np.uint8) for i in range(30)]
    write_video(tmp_path / "clip.avi", frames)
    got = read_calibration_frames(tmp_path / "clip.avi", 5)
    indices = [int(round(f.mean() / 8)) for f in got]
    assert indices == spread_indices(30, 5) == [0, 7, 14, 22, 29]
    assert all(f.shape == (96, 128, 3) and f.dtype == np.uint8 for f in got)


def test_folder_frames_and_clear_errors(tmp_path):
    folder = tmp_path / "imgs"
    folder.mkdir()
    for i in range(6):
        cv2.imwrite(str(folder / f"{i:03d}.png"), np.full((40, 60, 3), 40 * i, np.uint8))
    (folder / "notes.txt").write_text("not an image")
    got = read_calibration_frames(folder, 3)
    assert [int(f.mean()) for f in got] == [0, 80, 200]  # files 0, 2 (round(2.5)), 5

    with pytest.raises(FileNotFoundError, match="calibration source not found"):
        read_calibration_frames(tmp_path / "missing.mp4", 4)
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="holds no images"):
        read_calibration_frames(tmp_path / "empty", 4)
    (tmp_path / "bad.mp4").write_bytes(b"\x00" * 64)
    with pytest.raises(ValueError, match="bad.mp4"):
        read_calibration_frames(tmp_path / "bad.mp4", 4)
    with pytest.raises(ValueError, match="positive"):
        read_calibration_frames(folder, 0)


def test_calibration_batches_are_the_inference_preprocessing():
    frames = street_frames(3, seed=5)
    batches = list(calibration_batches(frames, INPUT_SIZE))
    assert len(batches) == 3
    for frame, batch in zip(frames, batches, strict=True):
        expected, _ = to_input_tensor([frame], INPUT_SIZE)
        assert batch.shape == (1, 3, *INPUT_SIZE) and batch.dtype == np.float32
        np.testing.assert_array_equal(batch, expected)


# ----------------------------------------------------------------------------- FP16 / INT8 ONNX

def test_output_tail_is_the_road_sigmoid_and_the_box_decode(fp32_onnx):
    model = onnx.load(str(fp32_onnx))
    tail = set(prec.output_tail_nodes(model))
    nodes = {n.name: n for n in model.graph.node}
    ops = {nodes[t].op_type for t in tail}
    assert "Conv" not in ops and {"Sigmoid", "Concat", "Mul"} <= ops
    producer = {o: n for n in model.graph.node for o in n.output}
    road = producer["road"]
    # the road head ends in its logits conv and a sigmoid on the stride-4 grid: no resize in the graph
    assert road.op_type == "Sigmoid" and road.name in tail and producer[road.input[0]].op_type == "Conv"
    assert producer["det"].name in tail
    # the head's last convs feed the tail and are not part of it
    assert all(nodes[n].op_type == "Conv" and n not in tail for n in prec.last_weighted_nodes(model))


def test_fp16_file_is_mixed_precision_with_float32_io(fp32_onnx, fp16_onnx):
    model = onnx.load(str(fp16_onnx))
    meta = prec.read_metadata(model)
    assert meta["precision"] == "fp16" and meta["converter"] == "onnxruntime-float16"
    assert json.loads(meta["perception"])["input_size"] == list(INPUT_SIZE)
    f32 = onnx.TensorProto.FLOAT
    assert [v.type.tensor_type.elem_type for v in list(model.graph.input) + list(model.graph.output)] == [f32] * 3
    conv_weights = {n.input[1] for n in model.graph.node if n.op_type == "Conv"}
    inits = {t.name: t.data_type for t in model.graph.initializer}
    assert all(inits[w] == onnx.TensorProto.FLOAT16 for w in conv_weights if w in inits)
    # the tail still runs in float32: its Sigmoids read float32 tensors (Casts inserted before them)
    typed = onnx.shape_inference.infer_shapes(model)
    types = {v.name: v.type.tensor_type.elem_type for v in list(typed.graph.value_info) + list(typed.graph.output)}
    tail = set(prec.output_tail_nodes(onnx.load(str(fp32_onnx))))
    for node in typed.graph.node:
        if node.name in tail and node.op_type in ("Sigmoid", "Resize"):
            assert types[node.input[0]] == f32, node.name


def test_fp16_agrees_with_fp32(fp16_onnx, fp32_outputs, eval_batches):
    out = run_onnx(fp16_onnx, eval_batches)
    road_ref, road = (np.concatenate([o[1].ravel() for o in outs]) for outs in (fp32_outputs, out))
    boxes_ref, boxes = (np.concatenate([o[0][:, :4].ravel() for o in outs]) for outs in (fp32_outputs, out))
    score_d = max(np.abs(a[0][:, 4:] - b[0][:, 4:]).max() for a, b in zip(fp32_outputs, out, strict=True))
    road_d = np.abs(road_ref - road)
    assert road_d.max() <= 0.03 and road_d.mean() <= 3e-3 and sqnr_db(road_ref, road) >= 44
    assert sqnr_db(boxes_ref, boxes) >= 44 and score_d <= 0.02
    # and not trivially equal: the model's outputs vary with the image, and fp16 does change them a little
    assert road_ref.std() > 0.03 and road_d.max() > 0


def test_int8_file_has_symmetric_per_channel_qdq(fp32_onnx, int8_onnx):
    model = onnx.load(str(int8_onnx))
    meta = prec.read_metadata(model)
    assert meta["precision"] == "int8" and meta["int8_target"] == "tensorrt" and "perception" in meta
    inits = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
    qdq = [n for n in model.graph.node if n.op_type in ("QuantizeLinear", "DequantizeLinear")]
    assert len(qdq) > 100
    for n in qdq:
        zp = inits[n.input[2]]
        assert zp.dtype == np.int8 and not zp.any(), f"{n.name}: zero point must be int8 0 (symmetric)"
    assert asymmetric_quantizers(model) == []
    # every Conv weight is quantized per output channel: one scale per filter, axis 0
    producer = {o: n for n in model.graph.node for o in n.output}
    convs = [n for n in model.graph.node if n.op_type == "Conv" and n.input[1] in producer]
    assert len(convs) > 50
    for conv in convs:
        dq = producer[conv.input[1]]
        assert dq.op_type == "DequantizeLinear"
        axis = next((a.i for a in dq.attribute if a.name == "axis"), 1)
        scale = inits[dq.input[1]]
        n_out = inits[producer[dq.input[0]].input[0]].shape[0]  # float weight behind Q (TensorRT form)
        assert axis == 0 and scale.shape == (n_out,)
        assert len(conv.input) < 3 or conv.input[2] in inits  # float bias, no int32 DequantizeLinear
    # the output tail stays float: none of its nodes reads a DequantizeLinear output
    tail = set(prec.output_tail_nodes(onnx.load(str(fp32_onnx))))
    for node in model.graph.node:
        if node.name in tail:
            assert all(producer.get(i) is None or producer[i].op_type != "DequantizeLinear" for i in node.input)


def _first_conv_is_float(model) -> bool:
    """The conv that reads the image takes it and its weights as written: no DequantizeLinear before it."""
    producer = {o: n for n in model.graph.node for o in n.output}
    (stem,) = [n for n in model.graph.node if n.name == "/encoder/stem/conv/Conv"]  # quantizing keeps node names
    return all(producer.get(i) is None or producer[i].op_type != "DequantizeLinear" for i in stem.input if i)


def test_int8_keeps_the_first_conv_float_for_both_targets(fp32_onnx, int8_onnx, int8cpu_onnx, calib_video,
                                                          tmp_path):
    fp32 = onnx.load(str(fp32_onnx))
    assert prec.input_weighted_nodes(fp32) == ["/encoder/stem/conv/Conv"]  # found from the graph input
    assert _first_conv_is_float(onnx.load(str(int8_onnx)))
    assert _first_conv_is_float(onnx.load(str(int8cpu_onnx)))
    # the switch is real: asked to, the conv is quantized like the rest (and one node fewer stays float)
    all_q = prec.quantize_int8(fp32_onnx, tmp_path / "q.int8cpu.onnx", calib_video, calib_frames=4, target="cpu",
                               first_conv_float=False)
    assert not _first_conv_is_float(onnx.load(str(all_q)))
    fp32_nodes = lambda f: int(prec.read_metadata(onnx.load(str(f)))["fp32_nodes"])  # noqa: E731
    assert fp32_nodes(int8cpu_onnx) == fp32_nodes(all_q) + 1


def test_int8_agrees_with_fp32(int8_onnx, fp32_outputs, eval_batches):
    exact = run_onnx(int8_onnx, eval_batches, exact=True)
    road_ref = np.concatenate([a[1].ravel() for a in fp32_outputs])
    road_q = np.concatenate([b[1].ravel() for b in exact])
    assert sqnr_db(road_ref, road_q) >= 14 and np.abs(road_ref - road_q).mean() <= 0.08
    boxes_ref = np.concatenate([a[0][:, :4].ravel() for a in fp32_outputs])
    boxes_q = np.concatenate([b[0][:, :4].ravel() for b in exact])
    assert sqnr_db(boxes_ref, boxes_q) >= 16
    # ONNX Runtime's fused int8 CPU kernels run it too (their accuracy depends on the CPU's int8 instructions)
    fused = run_onnx(int8_onnx, eval_batches[:1])
    assert fused[0][0].shape == fp32_outputs[0][0].shape and np.isfinite(fused[0][1]).all()
    assert 0 <= fused[0][1].min() and fused[0][1].max() <= 1  # the float Sigmoid still bounds the road map


def test_cpu_int8_target_is_asymmetric_and_refused_for_tensorrt(int8cpu_onnx):
    assert asymmetric_quantizers(onnx.load(str(int8cpu_onnx)))
    with pytest.raises(ValueError, match="symmetric"):
        onnx_engine_metadata(int8cpu_onnx)


def test_graph_repairs_after_fp16_conversion():
    """The fixes applied to onnxruntime's float16 output: duplicate Casts dropped, nodes re-sorted."""
    from onnx import TensorProto, helper

    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [2])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [2])
    cast = helper.make_node("Cast", ["x"], ["x16"], name="c", to=TensorProto.FLOAT16)
    nodes = [helper.make_node("Cast", ["x16"], ["y"], name="back", to=TensorProto.FLOAT), cast,
             helper.make_node("Cast", ["x"], ["x16"], name="c_again", to=TensorProto.FLOAT16)]
    model = helper.make_model(helper.make_graph(nodes, "g", [x], [y]))
    assert prec.drop_duplicate_nodes(model) == 1  # same computation, other name: redundant
    prec.topological_sort(model)
    assert [n.name for n in model.graph.node] == ["c", "back"]
    onnx.checker.check_model(model)

    clash = helper.make_node("Relu", ["x"], ["x16"], name="other")
    model.graph.node.append(clash)
    with pytest.raises(ValueError, match="two different nodes"):
        prec.drop_duplicate_nodes(model)


def test_conversion_errors_are_clear(fp16_onnx, tmp_path):
    with pytest.raises(ValueError, match="already fp16"):
        prec.convert_fp16(fp16_onnx, tmp_path / "x.onnx")
    with pytest.raises(FileNotFoundError):
        prec.convert_fp16(tmp_path / "missing.onnx", tmp_path / "x.onnx")
    with pytest.raises(ValueError, match="converter"):
        prec.convert_fp16(fp16_onnx, tmp_path / "x.onnx", converter="magic")


def test_cli_exports_fp16_and_int8_beside_the_weights(fp32_onnx, calib_video, capsys):
    from run import main

    weights = fp32_onnx.with_name("model.pt")
    assert main(["export", "--weights", str(weights), "--precision", "fp16"]) == 0
    assert main(["export", "--weights", str(weights), "--precision", "int8", "--calib-source", str(calib_video),
                 "--calib-frames", "4"]) == 0
    out = capsys.readouterr().out
    assert "model.fp16.onnx" in out and "model.int8.onnx" in out and "4 frames" in out
    for name, precision in (("model.fp16.onnx", "fp16"), ("model.int8.onnx", "int8")):
        meta = prec.read_metadata(onnx.load(str(weights.with_name(name))))
        assert meta["precision"] == precision
    # the CPU form of int8 gets its own name, so it never replaces the file TensorRT builds from
    assert main(["export", "--weights", str(weights), "--precision", "int8", "--int8-target", "cpu",
                 "--calib-source", str(calib_video), "--calib-frames", "4"]) == 0
    assert "model.int8cpu.onnx" in capsys.readouterr().out
    assert prec.read_metadata(onnx.load(str(weights.with_name("model.int8cpu.onnx"))))["int8_target"] == "cpu"
    assert main(["export", "--weights", str(weights), "--format", "engine", "--precision", "int8",
                 "--int8-target", "cpu"]) == 2
    assert "TensorRT needs the default symmetric one" in capsys.readouterr().err


# ----------------------------------------------------------------------------- TensorRT, CPU-testable parts

def test_engine_cache_key_changes_with_onnx_trt_and_gpu_only(fp32_onnx):
    data = fp32_onnx.read_bytes()
    key = engine_cache_key(data, "11.4.0.106", "NVIDIA H100 80GB HBM3")
    assert key == engine_cache_key(fp32_onnx, "11.4.0.106", "NVIDIA H100 80GB HBM3")  # bytes or path alike
    assert key == engine_cache_key(data, "11.4.0.106", "  nvidia H100 80GB  HBM3 ")  # spacing/case of the name
    assert len(key) == 64 and int(key, 16) >= 0
    changed = [engine_cache_key(data[:-1] + bytes([data[-1] ^ 1]), "11.4.0.106", "NVIDIA H100 80GB HBM3"),
               engine_cache_key(data, "11.4.1.2", "NVIDIA H100 80GB HBM3"),
               engine_cache_key(data, "11.4.0.106", "NVIDIA H200")]
    assert len({key, *changed}) == 4
    assert engine_cache_key(b"ab", "c", "gpu") != engine_cache_key(b"ab", "", "cgpu")
    path = cached_engine_path("weights/perception_n.int8.onnx", key, "/cache")
    assert str(path) == f"/cache/perception_n.int8.{key[:16]}.engine"
    assert sidecar_path(path).name == f"perception_n.int8.{key[:16]}.json"


def test_io_buffer_planning():
    specs = [("images", "input", (1, 3, 128, 192), np.float32), ("det", "output", (1, 7, 504), np.float32),
             ("road", "output", (1, 1, 128, 192), np.float16)]
    plan = plan_io_buffers(specs)
    assert [b.name for b in plan] == ["images", "det", "road"]
    assert plan[0] == IOBuffer("images", "input", (1, 3, 128, 192), np.dtype(np.float32), 4 * 3 * 128 * 192)
    assert plan[2].nbytes == 2 * 128 * 192 and plan[2].dtype == np.float16
    assert plan_io_buffers([("images", True, (1, 3, 32, 32), "float32"), ("det", False, (1, 7, 21), "float32"),
                            ("road", False, (1, 1, 32, 32), "float32")])[0].mode == "input"
    check_input_size(plan, INPUT_SIZE, "e.engine")
    with pytest.raises(ValueError, match="do not belong together"):
        check_input_size(plan, (384, 640), "e.engine")
    with pytest.raises(ValueError, match="fixed-shape"):
        plan_io_buffers([("images", "input", (-1, 3, 128, 192), np.float32)] + specs[1:])
    with pytest.raises(ValueError, match="lacks the outputs"):
        plan_io_buffers(specs[:2])
    with pytest.raises(ValueError, match="one input"):
        plan_io_buffers(specs + [("extra", "input", (1, 2), np.float32)])
    with pytest.raises(ValueError, match="two I/O tensors"):
        plan_io_buffers(specs + [("det", "output", (1, 2), np.float32)])

    x = np.zeros((1, 3, 128, 192), np.float64)
    ready = prepare_input(x, plan[0])
    assert ready.dtype == np.float32 and ready.flags.c_contiguous
    with pytest.raises(ValueError, match="to_input_tensor"):
        prepare_input(np.zeros((1, 3, 64, 64), np.float32), plan[0])


def _tensorrt_runs_here() -> bool:
    from nets.deploy.engine import require_tensorrt_runtime

    try:
        require_tensorrt_runtime()
    except BackendUnavailableError:
        return False
    return True


@pytest.mark.skipif(_tensorrt_runs_here(), reason="TensorRT, pycuda and a GPU are present: nothing is missing")
def test_tensorrt_backend_says_what_is_missing(tmp_path, fp32_onnx):
    with pytest.raises(BackendUnavailableError, match="TensorRT") as err:
        TensorRTBackend.from_engine(tmp_path / "model.engine")
    assert "make tensorrt" in str(err.value)
    with pytest.raises(BackendUnavailableError, match="TensorRT"):
        TensorRTBackend.from_onnx(fp32_onnx)


@pytest.mark.skipif(_tensorrt_runs_here(), reason="TensorRT, pycuda and a GPU are present: nothing is missing")
def test_export_engine_exits_2_with_one_line(tmp_path, capsys):
    from run import main

    rc = main(["export", "--format", "engine", "--precision", "int8", "--weights", str(tmp_path / "none.pt")])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and len(err) == 1
    assert err[0].startswith("error:") and "TensorRT" in err[0] and "pip install" in err[0]
