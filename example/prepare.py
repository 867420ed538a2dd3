"""One-time data preparation for the example experiment (the immutable harness).

Mirrors autoresearch's prepare.py: it writes a small data snapshot to ~/.cache/autoresearch and
defines the fixed time budget and the evaluation that train.py must use. Standard library only.
"""

import hashlib
import os
import random
import sys

TIME_BUDGET = 3  # seconds of training, the protocol's budget
CACHE_DIR = os.path.join(os.path.expanduser("~"), ".cache", "autoresearch")
DATA_DIR = os.path.join(CACHE_DIR, "data")
TOKENIZER_DIR = os.path.join(CACHE_DIR, "tokenizer")
VAL_SHARD = "shard_06542.parquet"


def prepare() -> None:
    os.makedirs(DATA_DIR, exist_ok=True)
    os.makedirs(TOKENIZER_DIR, exist_ok=True)
    rng = random.Random(42)
    for name in ("shard_00000.parquet", "shard_00001.parquet", VAL_SHARD):
        with open(os.path.join(DATA_DIR, name), "wb") as f:
            f.write(bytes(rng.getrandbits(8) for _ in range(4096)))
    with open(os.path.join(TOKENIZER_DIR, "tokenizer.pkl"), "wb") as f:
        f.write(hashlib.sha256(b"example tokenizer").digest() * 64)
    print(f"prepared {CACHE_DIR}")


def check_snapshot() -> None:
    """train.py calls this first: the data must already be there (no downloads during training)."""
    missing = [p for p in (os.path.join(DATA_DIR, VAL_SHARD), TOKENIZER_DIR) if not os.path.exists(p)]
    if missing:
        sys.exit(f"data snapshot missing: {missing}; run prepare.py first")


def evaluate_bpb(quality: float, noise: random.Random) -> float:
    """The fixed metric: bits per byte for a model of the given quality, with run-to-run noise."""
    return 1.60 + 0.35 * (1.0 - quality) + noise.gauss(0.0, 0.01)


if __name__ == "__main__":
    prepare()
