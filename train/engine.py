"""The training loop: one run trains road segmentation and detection together.

Plain and linear, in the manner of torchvision's references/ scripts:

    setup (distributed, seeds, model [init_weights: fine-tune], [distill: teachers], EMA, optimizer, schedule, data)
    resume from last.pt if asked
    for each epoch: train one epoch → validate → checkpoint (last.pt, best.pt) → logs

A checkpoint is written atomically at the end of every epoch, so a crash loses
at most the epoch in progress; `--resume` restores model, EMA, optimizer,
schedule, AMP scaler, RNG states and the epoch counter, and continues exactly.
Under torchrun every rank trains on its shard (DistributedSampler); rank 0
validates, logs and writes checkpoints.
"""

from __future__ import annotations

import csv
import json
import math
import os
import random
import time
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, DistributedSampler, RandomSampler, SequentialSampler
from tqdm import tqdm
from ultralytics.utils.torch_utils import ModelEMA, init_seeds

from core.atomic import atomic_open, atomic_write_text
from core.config import ConfigError
from core.errors import InputNotFoundError, MissingDependencyError, UserError
from nets.config import PROJECT_ROOT, load_model_config
from nets.model import PerceptionNet
from nets.postprocess import detections_from_output
from nets.weights import atomic_save, load_checkpoint_file, load_model

from .datasets import build_dataset
from .distill import build_distiller
from .losses import MultiTaskLoss
from .metrics import DetectionScore, RoadScore
from .recipe import load_train_config  # noqa: F401  (engine.load_train_config: the recipe loader)


class TrainingDiverged(RuntimeError):
    """The loss became NaN or infinite; the last good checkpoint is kept."""


# ---------------------------------------------------------------------------- setup


def _resolve(path: str) -> Path:
    p = Path(path)
    return p if p.is_absolute() else PROJECT_ROOT / p


def setup_distributed(device: str) -> tuple[int, int, torch.device]:
    """Read torchrun's environment; NCCL on GPUs, gloo on CPU. Returns (rank, world_size, device)."""
    world = int(os.environ.get("WORLD_SIZE", 1))
    rank = int(os.environ.get("RANK", 0))
    local_rank = int(os.environ.get("LOCAL_RANK", 0))
    if device.startswith("cuda"):
        if not torch.cuda.is_available():
            raise MissingDependencyError("--device cuda asked for, but PyTorch sees no CUDA GPU here; use --device cpu")
        dev = torch.device("cuda", local_rank if world > 1 else torch.device(device).index or 0)
        torch.cuda.set_device(dev)
    else:
        dev = torch.device("cpu")
    if world > 1 and not dist.is_initialized():
        dist.init_process_group(backend="nccl" if dev.type == "cuda" else "gloo")
    return rank, world, dev


def build_optimizer(model: torch.nn.Module, cfg: dict) -> torch.optim.Optimizer:
    """Weight decay on conv/linear weights only: decaying BatchNorm scales and biases only hurts."""
    o = cfg.get("optimizer", {})
    decay, no_decay = [], []
    for p in model.parameters():
        if p.requires_grad:
            (decay if p.ndim > 1 else no_decay).append(p)
    groups = [{"params": decay, "weight_decay": o.get("weight_decay", 5e-4)},
              {"params": no_decay, "weight_decay": 0.0}]
    name, lr = o.get("name", "adamw").lower(), o.get("lr", 2e-3)
    if name == "adamw":
        return torch.optim.AdamW(groups, lr=lr, betas=(o.get("momentum", 0.9), 0.999))
    if name == "sgd":
        return torch.optim.SGD(groups, lr=lr, momentum=o.get("momentum", 0.937), nesterov=True)
    raise ConfigError(f"optimizer.name {name!r} is not one of adamw, sgd")


def build_schedule(optimizer, cfg: dict, iters_per_epoch: int) -> torch.optim.lr_scheduler.LambdaLR:
    """Linear warm-up, then cosine or poly decay to final_lr_ratio; stepped every iteration."""
    s = cfg.get("schedule", {})
    total = max(cfg["epochs"] * iters_per_epoch, 1)
    warmup = min(int(s.get("warmup_epochs", 3) * iters_per_epoch), total - 1)
    final = s.get("final_lr_ratio", 0.01)
    kind = s.get("name", "cosine")
    if kind not in ("cosine", "poly"):
        raise ConfigError(f"schedule.name {kind!r} is not one of cosine, poly")

    def factor(it: int) -> float:
        if it < warmup:
            return 0.01 + 0.99 * it / max(warmup, 1)
        t = min((it - warmup) / max(total - warmup, 1), 1.0)
        decay = 0.5 * (1 + math.cos(math.pi * t)) if kind == "cosine" else (1 - t) ** s.get("power", 0.9)
        return final + (1 - final) * decay

    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)


def build_loaders(cfg: dict, model_cfg: dict, rank: int, world: int, seed: int):
    imgsz = tuple(cfg["imgsz"])
    names, road = model_cfg["classes"], model_cfg["road_classes"]
    data = cfg["data"]
    train_set = build_dataset(data["train"], "train", imgsz, road, names, augment=True, seed=seed,
                              augment_overrides=cfg.get("augment"))
    val_set = (build_dataset(data["val"], "val", imgsz, road, names, augment=False, seed=seed)
               if data.get("val") else None)
    if cfg.get("sampler"):
        if world > 1:
            raise UserError("the recipe's class-balanced sampler runs in one process only; drop 'sampler:' for DDP")
        from .balance import balanced_sampler

        sampler = balanced_sampler(train_set, cfg["sampler"], len(names), seed)
    elif world > 1:
        sampler = DistributedSampler(train_set, num_replicas=world, rank=rank, shuffle=True, seed=seed)
    else:
        sampler = RandomSampler(train_set, generator=torch.Generator().manual_seed(seed))
    workers = cfg.get("workers", 2)
    # workers are not persistent: each epoch's augmentation is seeded by (seed, epoch, index) when they start
    common = {"num_workers": workers, "persistent_workers": False, "pin_memory": torch.cuda.is_available()}
    train_loader = DataLoader(train_set, batch_size=cfg["batch"], sampler=sampler, collate_fn=train_set.collate_fn,
                              drop_last=len(train_set) > cfg["batch"], **common)
    val_loader = None
    if val_set is not None and rank == 0:
        val_loader = DataLoader(val_set, batch_size=cfg.get("val_batch", cfg["batch"]), collate_fn=val_set.collate_fn,
                                sampler=SequentialSampler(val_set), **common)
    return train_set, train_loader, val_set, val_loader


# ---------------------------------------------------------------------------- epochs


def freeze_parts(net: PerceptionNet, parts) -> list[torch.nn.Module]:
    """Stop the recipe's `freeze` parts from training: no gradients for their weights. Returns their BatchNorm
    layers, for `train_mode` to keep in eval mode (statistics as trained, not re-estimated on these batches)."""
    norms = []
    for part in parts:
        module = getattr(net, part)
        module.requires_grad_(False)
        norms += [m for m in module.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    return norms


def train_mode(model, frozen_norms=()) -> None:
    """model.train(), except the frozen parts' BatchNorm layers: in train mode they would normalise with each
    batch's statistics and move their running ones. (Only those: a part's own mode decides what it returns,
    e.g. the road decoder's full-size logits in training.)"""
    model.train()
    for norm in frozen_norms:
        norm.eval()


def train_one_epoch(model, criterion, optimizer, schedule, ema, scaler, loader, device, epoch: int, cfg: dict,
                    show_progress: bool, distiller=None, frozen_norms=()) -> dict:
    train_mode(model, frozen_norms)
    totals: dict[str, float] = {}
    n = 0
    use_amp = scaler is not None
    bar = tqdm(loader, desc=f"epoch {epoch + 1}/{cfg['epochs']}", disable=not show_progress, leave=True,
               dynamic_ncols=True, unit="batch")
    for i, batch in enumerate(bar):
        images = batch["img"].to(device, non_blocking=True)
        with torch.autocast(device.type, enabled=use_amp):
            out = model(images)
        loss, log = criterion({k: (v.float() if torch.is_tensor(v) else v) for k, v in out.items()}, batch)
        if distiller is not None:  # the teachers' soft targets on the same batch (train.distill)
            kd, kd_log = distiller(out, images)
            loss = loss + kd
            log = {**log, **kd_log, "total": log["total"] + float(kd.detach())}
        if not math.isfinite(log["total"]):
            raise TrainingDiverged(f"loss became {log['total']} at epoch {epoch + 1}, batch {i + 1} "
                                   f"({', '.join(f'{k}={v:.3g}' for k, v in log.items())})")
        optimizer.zero_grad(set_to_none=True)
        if use_amp:
            scaler.scale(loss).backward()
            scaler.unscale_(optimizer)
        else:
            loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.get("grad_clip", 10.0))
        if use_amp:
            scaler.step(optimizer)
            scaler.update()
        else:
            optimizer.step()
        schedule.step()
        if ema is not None:
            ema.update(model)
        n += 1
        for k, v in log.items():
            totals[k] = totals.get(k, 0.0) + v
        bar.set_postfix({k: f"{totals[k] / n:.3f}" for k in ("total", "road", "box_loss", "cls_loss") if k in totals}
                        | {"lr": f"{optimizer.param_groups[0]['lr']:.2e}"})
    return {k: v / max(n, 1) for k, v in totals.items()}


@torch.inference_mode()
def validate(model: PerceptionNet, loader, device, class_names: list[str], conf: float = 0.001, iou: float = 0.6,
             show_progress: bool = False) -> dict:
    """Road IoU/MaxF and detection mAP on letterboxed validation images (pad pixels are void)."""
    model.eval()
    road = RoadScore()
    det = DetectionScore(class_names)
    has_det_labels = False
    for batch in tqdm(loader, desc="validate", disable=not show_progress, leave=False, unit="batch"):
        images = batch["img"].to(device)
        raw_det, road_prob = model(images)  # road on the stride-4 grid, as every backend returns it
        road_prob = F.interpolate(road_prob.float(), size=images.shape[2:], mode="bilinear", align_corners=False)
        probs = road_prob[:, 0].cpu().numpy()
        targets = batch["road"][:, 0].numpy()
        preds = detections_from_output(raw_det.float().cpu().numpy(), conf, iou, max_det=300)
        h, w = images.shape[2:]
        scale = torch.tensor([w, h, w, h], dtype=torch.float32)
        for b in range(len(images)):
            if batch["has_road"][b]:
                road.update(probs[b], targets[b])
            if batch["has_boxes"][b]:
                has_det_labels = True
                rows = batch["batch_idx"] == b
                xywh = batch["bboxes"][rows] * scale
                xyxy = torch.cat([xywh[:, :2] - xywh[:, 2:] / 2, xywh[:, :2] + xywh[:, 2:] / 2], 1)
                det.update(preds[b], xyxy.numpy(), batch["cls"][rows].view(-1).numpy())
    out = {"road": None if road.empty else road.compute(), "det": det.compute() if has_det_labels else None}
    return out


def fitness(metrics: dict, weights: dict) -> float:
    """One number to pick best.pt by: a weighted sum of road MaxF and detection mAP50."""
    f = 0.0
    if metrics.get("road"):
        f += weights.get("road_maxf", 0.5) * metrics["road"]["MaxF"]
    if metrics.get("det"):
        f += weights.get("map50", 0.5) * metrics["det"]["mAP50"]
    return f


def flat_metrics(metrics: dict) -> dict:
    row = {}
    if metrics.get("road"):
        row.update({f"road_{k}": metrics["road"][k] for k in ("IoU", "MaxF", "AP", "BestThresh")})
    if metrics.get("det"):
        row.update({"mAP50": metrics["det"]["mAP50"], "mAP50-95": metrics["det"]["mAP50-95"]})
        row.update({f"AP50_{c}": v["AP50"] for c, v in metrics["det"]["per_class"].items()})
    return row


# ---------------------------------------------------------------------------- checkpoints


def rng_state() -> dict:
    # numpy's state holds an ndarray, which weights_only loading refuses: stored as a tensor and plain numbers
    kind, keys, pos, has_gauss, cached = np.random.get_state()
    state = {"python": random.getstate(), "numpy": [kind, torch.from_numpy(keys.astype(np.int64)), int(pos),
                                                    int(has_gauss), float(cached)],
             "torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict) -> None:
    random.setstate(state["python"])
    kind, keys, pos, has_gauss, cached = state["numpy"]
    np.random.set_state((kind, np.asarray(keys, dtype=np.int64).astype(np.uint32), pos, has_gauss, cached))
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def plain(obj):
    """`obj` with numpy scalars as Python numbers, arrays as tensors and paths as strings: what
    torch.load(weights_only=True) reads back (metrics carry numpy floats)."""
    if isinstance(obj, dict):
        return {k: plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(plain(v) for v in obj)
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return torch.from_numpy(obj.copy())
    if isinstance(obj, Path):
        return str(obj)
    return obj


def make_checkpoint(net, ema, optimizer, schedule, scaler, epoch, best_fitness, metrics, cfg) -> dict:
    # `model` holds the weights to deploy (EMA when enabled); `train_model` the raw weights to resume from
    deploy = ema.ema if ema is not None else net
    return {
        "model_config": net.cfg,
        "model": deploy.state_dict(),
        "train_model": net.state_dict(),
        "ema_updates": ema.updates if ema is not None else 0,
        "optimizer": optimizer.state_dict(),
        "schedule": schedule.state_dict(),
        "scaler": scaler.state_dict() if scaler is not None else None,
        "epoch": epoch,  # epochs completed
        "best_fitness": float(best_fitness),
        "metrics": plain(metrics),
        "train_config": plain({k: v for k, v in cfg.items() if not k.startswith("_")}),
        "rng": rng_state(),
        "date": time.strftime("%Y-%m-%d %H:%M:%S"),
    }


# ---------------------------------------------------------------------------- the run


RUN_FILES = ("last.pt", "best.pt", "results.csv", "summary.json")


def refuse_existing_run(out_dir: Path, resume: bool, exist_ok: bool) -> None:
    """A new run into a folder holding another run's files would replace its better best.pt and mix its
    results.csv rows: refused (before anything is written) unless resuming it or told --exist-ok."""
    from core.output_paths import UnsafeOutputError

    if resume or exist_ok:
        return
    found = [name for name in RUN_FILES if (out_dir / name).exists()]
    if found:
        raise UnsafeOutputError(f"out_dir {out_dir} already holds a training run ({', '.join(found)}): continue it "
                                "with --resume, give another --out-dir, or pass --exist-ok to start over there "
                                "(its files are then replaced); nothing was written")


def train(cfg: dict, resume: bool = False, device: str = "cpu", log=print, exist_ok: bool = False) -> dict:
    rank, world, dev = setup_distributed(device)
    main = rank == 0
    seed = int(cfg.get("seed", 0))
    init_seeds(seed + rank, deterministic=cfg.get("deterministic", False))
    out_dir = _resolve(cfg.get("out_dir", "runs/train"))
    last, best = out_dir / "last.pt", out_dir / "best.pt"
    if main:
        out_dir.mkdir(parents=True, exist_ok=True)

    model_cfg = load_model_config(_resolve(cfg["model"]))
    net = PerceptionNet(model_cfg).to(dev)
    if cfg.get("init_weights") and not resume:
        # fine-tuning: start from trained weights of this architecture, with a fresh optimizer and schedule
        init = _resolve(cfg["init_weights"])
        net.load_state_dict(load_model(init, expect_config=model_cfg).state_dict())
        if main:
            log(f"initialised from {init}")
    refuse_existing_run(out_dir, resume, exist_ok)
    frozen_norms = freeze_parts(net, cfg.get("freeze", []))  # before the optimizer: it takes trainable weights only
    if cfg.get("freeze") and main:
        log(f"frozen (not trained): {', '.join(cfg['freeze'])}")
    criterion = MultiTaskLoss(net, cfg.get("loss", {}))
    distiller = build_distiller(cfg.get("distill"), model_cfg, dev, resolve=_resolve)
    if distiller is not None and main:
        log(f"distilling from {len(distiller.teachers)} teacher(s): {', '.join(distiller.sources)}")
    train_set, train_loader, val_set, val_loader = build_loaders(cfg, model_cfg, rank, world, seed)
    optimizer = build_optimizer(net, cfg)
    schedule = build_schedule(optimizer, cfg, len(train_loader))
    e = cfg.get("ema", {"decay": 0.9999, "tau": 2000})
    ema = ModelEMA(net, decay=e["decay"], tau=e["tau"]) if e else None
    scaler = torch.amp.GradScaler("cuda") if dev.type == "cuda" and cfg.get("amp", True) else None

    start_epoch, best_fitness, history = 0, -1.0, []
    if resume:
        if not last.is_file():
            raise InputNotFoundError(f"--resume: no checkpoint at {last}; start without --resume")
        ckpt = load_checkpoint_file(last, map_location=dev)
        net.load_state_dict(ckpt["train_model"])
        if ema is not None:
            ema.ema.load_state_dict(ckpt["model"])
            ema.updates = ckpt["ema_updates"]
        optimizer.load_state_dict(ckpt["optimizer"])
        schedule.load_state_dict(ckpt["schedule"])
        if scaler is not None and ckpt.get("scaler"):
            scaler.load_state_dict(ckpt["scaler"])
        start_epoch, best_fitness = ckpt["epoch"], ckpt["best_fitness"]
        set_rng_state(ckpt["rng"])
        if main:
            log(f"resumed from {last}: {start_epoch} epochs done, best fitness {best_fitness:.4f}")
        if start_epoch >= cfg["epochs"]:
            log(f"nothing to do: {start_epoch} of {cfg['epochs']} epochs already done (raise --epochs to go on)")
            return {"epochs": start_epoch, "best": str(best), "last": str(last)}

    model = DistributedDataParallel(net) if world > 1 else net
    if main:
        derived = " (detection labels derived from masks)" if getattr(train_set, "boxes_are_derived", False) else ""
        log(f"training {model_cfg.get('name')} on {len(train_set)} images{derived}, validating on "
            f"{len(val_set) if val_set else 0}; {world} process(es) on {dev}; input {cfg['imgsz']}; out {out_dir}")
    writer = _tensorboard(out_dir) if main else None
    csv_path = out_dir / "results.csv"
    t_start = time.time()
    for epoch in range(start_epoch, cfg["epochs"]):
        if isinstance(train_loader.sampler, DistributedSampler):
            train_loader.sampler.set_epoch(epoch)
        else:  # reshuffle reproducibly per epoch, so a resumed run sees the same order
            train_loader.sampler.generator.manual_seed(seed + epoch)
        if hasattr(train_set, "set_epoch"):
            train_set.set_epoch(epoch)
        t0 = time.time()
        losses = train_one_epoch(model, criterion, optimizer, schedule, ema, scaler, train_loader, dev, epoch, cfg,
                                 show_progress=main, distiller=distiller,
                                 frozen_norms=frozen_norms)
        metrics = {}
        if main:
            v = cfg.get("val", {})
            if val_loader is not None and ((epoch + 1) % v.get("every", 1) == 0 or epoch + 1 == cfg["epochs"]):
                metrics = validate(ema.ema if ema is not None else net, val_loader, dev, model_cfg["classes"],
                                   v.get("conf", 0.001), v.get("iou", 0.6))
            fit = fitness(metrics, v.get("fitness", {})) if metrics else -1.0
            is_best = fit > best_fitness
            best_fitness = max(best_fitness, fit)
            ckpt = make_checkpoint(net, ema, optimizer, schedule, scaler, epoch + 1, best_fitness, metrics, cfg)
            atomic_save(ckpt, last)
            if is_best:
                atomic_save(ckpt, best)
            row = {"epoch": epoch + 1, "time_s": round(time.time() - t0, 1), "lr": optimizer.param_groups[0]["lr"],
                   **{f"loss_{k}": round(v, 5) for k, v in losses.items()},
                   **{k: round(v, 5) for k, v in flat_metrics(metrics).items()}}
            _append_csv(csv_path, row, fresh=not resume and epoch == start_epoch)  # --exist-ok: the old rows go
            if writer is not None:
                for k, v in row.items():
                    if k != "epoch":
                        writer.add_scalar(k.replace("_", "/", 1), v, epoch + 1)
                writer.flush()
            history.append(row)
            log(_epoch_line(row, is_best))
        if world > 1:
            dist.barrier()
    summary = {"epochs": cfg["epochs"], "hours": round((time.time() - t_start) / 3600, 3), "best_fitness": best_fitness,
               "best": str(best), "last": str(last), "out_dir": str(out_dir)}
    if main:
        if history:
            summary["final"] = history[-1]
        atomic_write_text(out_dir / "summary.json", json.dumps(summary, indent=2))
        log(f"done: {summary['hours']} h; best fitness {best_fitness:.4f} → {best}")
    if writer is not None:
        writer.close()
    if world > 1:
        dist.destroy_process_group()
    return summary


def _epoch_line(row: dict, is_best: bool) -> str:
    keys = ("loss_total", "road_IoU", "road_MaxF", "mAP50", "mAP50-95")
    parts = [f"{k}={row[k]:.4f}" for k in keys if k in row]
    return f"epoch {row['epoch']}: " + " ".join(parts) + f" ({row['time_s']} s)" + (" *best*" if is_best else "")


def _append_csv(path: Path, row: dict, fresh: bool = False) -> None:
    """Rows may gain columns (validation only some epochs): rewrite the header when they do. The file is
    rewritten through a temporary one, so a crash mid-write keeps every earlier row."""
    rows = []
    if path.is_file() and not fresh:
        with path.open() as f:
            rows = list(csv.DictReader(f))
    rows.append({k: str(v) for k, v in row.items()})
    fields = list(dict.fromkeys(k for r in rows for k in r))
    with atomic_open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=fields)
        w.writeheader()
        w.writerows(rows)


def _tensorboard(out_dir: Path):
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:  # tensorboard is a pinned dependency; without it the CSV log still has everything
        return None
    return SummaryWriter(str(out_dir / "tensorboard"))
