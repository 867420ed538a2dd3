"""Example experiment in the exact output format of autoresearch-mlx's train.py (standard library only).

An agent edits the hyperparameters below, pushes, and autoresearch-ci judges the change. The
"model" is simulated: quality depends on the hyperparameters, the metric comes from prepare.py.
"""

import math
import random
import sys
import time

from prepare import TIME_BUDGET, check_snapshot, evaluate_bpb

# Hyperparameters: the part an experiment changes.
DEPTH = 4
LEARNING_RATE = 0.02
WARMUP_STEPS = 20
BATCH_SIZE = 16


def quality() -> float:
    depth_score = 1.0 - abs(DEPTH - 6) * 0.08
    lr_score = 1.0 - abs(math.log10(LEARNING_RATE / 0.04)) * 0.5
    warmup_score = 1.0 - abs(WARMUP_STEPS - 40) / 400
    return max(0.0, min(1.0, depth_score * lr_score * warmup_score))


def main() -> None:
    check_snapshot()
    print("Data/tokenizer loaded in 0.1s")
    print(f"Time budget: {TIME_BUDGET}s")
    print("Gradient accumulation steps: 2")
    print("Model compiled in 0.1s", flush=True)
    noise = random.Random()
    start = time.time()
    step = 0
    loss = 8.97
    dt = 0.05
    while time.time() - start < TIME_BUDGET:
        elapsed = time.time() - start
        pct = min(100.0, 100.0 * elapsed / TIME_BUDGET)
        remaining = max(0, int(TIME_BUDGET - elapsed))
        sys.stdout.write(
            f"\rstep {step:05d} ({pct:.1f}%) | loss: {loss:.6f} | lrm: 1.00 | dt: {int(dt * 1000)}ms"
            f" | tok/sec: 284,939 | epoch: 1 | remaining: {remaining}s    "
        )
        sys.stdout.flush()
        loss = 3.1 + (loss - 3.1) * 0.97
        step += 1
        time.sleep(dt)
    training_seconds = time.time() - start
    print()
    print(f"Training completed in {training_seconds:.1f}s")
    print("Starting final eval...")
    val_bpb = evaluate_bpb(quality(), noise)
    total = time.time() - start + 0.2
    print("---")
    print(f"val_bpb:          {val_bpb:.6f}")
    print(f"training_seconds: {training_seconds:.1f}")
    print(f"total_seconds:    {total:.1f}")
    print(f"peak_vram_mb:     {1024 + DEPTH * BATCH_SIZE * 12.5:.1f}")
    print("mfu_percent:      0.00")
    print(f"total_tokens_M:   {step * BATCH_SIZE * 2048 / 1e6:.1f}")
    print(f"num_steps:        {step}")
    print(f"num_params_M:     {DEPTH * 2.9:.1f}")
    print(f"depth:            {DEPTH}")


if __name__ == "__main__":
    main()
