#!/usr/bin/env bash
# Every figure the README states for the shipped weights, measured for any weights in one pass, so a
# candidate can be compared with them (and, once shipped, the README refreshed) from one folder of files.
#
#   bash scripts/measure_weights.sh WEIGHTS.pt OUT_DIR [DATA_DIR]     # DATA_DIR default ../shared/data
#
# WEIGHTS.pt needs its ONNX siblings beside it (run.py export --format onnx, fp32 and --precision int8
# --int8-target cpu): the runtime picks the INT8 CPU file, as deployed. About 3 min on a quiet 2-core CPU.
# What comes out (all JSON unless said):
#   camvid_val_{fp32,int8cpu}.json      CamVid val (the shipped model's selection split: optimistic)
#   camvid_0001TP_fp32.json             the dusk drive (held out only for models trained without it)
#   kitti_road_perspective.json         2 KITTI frames with road masks, FP32 and INT8 CPU
#   class_conf_effect.json, dump/       boxes per clip frame at the deployed thresholds; dump/ for counting by eye
#   road_mask_stability.json            frame-to-frame road-mask IoU on the clips, road IoU on CamVid val
#   clips_tracking.txt                  forward-collision warnings and "Nearest" frames on the three clips
#   bench_{int8cpu,fp32}.json           infer+post latency and FPS on solidWhiteRight (noisy: compare in one run)
set -euo pipefail
weights=${1:?usage: scripts/measure_weights.sh WEIGHTS.pt OUT_DIR [DATA_DIR]}
out=${2:?usage: scripts/measure_weights.sh WEIGHTS.pt OUT_DIR [DATA_DIR]}
data=${3:-../shared/data}
py=${PYTHON:-python}
clips=(assets/sample_clip.mp4 "$data/video/solidWhiteRight.mp4" "$data/video/test_video.mp4")
mkdir -p "$out"

for precision in fp32 int8cpu; do
  $py run.py eval --dataset camvid --root "$data/camvid" --split val --weights "$weights" --backend onnxruntime \
      --precision "$precision" --json "$out/camvid_val_$precision.json"
done
$py run.py eval --dataset camvid --root "$data/camvid" --split train,val --sequences 0001TP --weights "$weights" \
    --backend onnxruntime --precision fp32 --json "$out/camvid_0001TP_fp32.json"
$py -m benchmarks.kitti_road_perspective --root "$data/kitti_road" --weights "$weights" --precisions fp32 int8cpu \
    --json "$out/kitti_road_perspective.json"
$py -m benchmarks.class_conf_effect --weights "$weights" --backend onnxruntime --root "$data/camvid" --split val \
    --clips "${clips[@]}" --every 10 --dump "$out/dump" --json "$out/class_conf_effect.json"
$py -m benchmarks.road_mask_stability --weights "$weights" --backend onnxruntime --camvid-root "$data/camvid" \
    --json "$out/road_mask_stability.json"
: > "$out/clips_tracking.txt"
for clip in "${clips[@]}"; do
  name=$(basename "$clip" .mp4)
  $py run.py infer --weights "$weights" --source "$clip" --calib configs/camera/udacity_highway_clips.yaml \
      --json "$out/infer_$name.jsonl" 2>&1 | { grep "^tracking:" || true; } | sed "s|^|$name: |" >> "$out/clips_tracking.txt"
  $py - "$out/infer_$name.jsonl" "$name" >> "$out/clips_tracking.txt" <<'PY'
import json, sys
frames = [f for f in map(json.loads, open(sys.argv[1])) if "boxes" in f]
warned = [i for i, f in enumerate(frames) if f["collision"]["warning"]]
nearest = sum(f["collision"]["nearest_id"] is not None for f in frames)
print(f"{sys.argv[2]}: {len(frames)} frames, warning frames {warned}, frames with a Nearest {nearest}")
PY
done
for precision in int8cpu fp32; do
  $py run.py bench --weights "$weights" --backend onnxruntime --precision "$precision" \
      --source "$data/video/solidWhiteRight.mp4" --json "$out/bench_$precision.json"
done
cat "$out/clips_tracking.txt"
echo "wrote $out"
