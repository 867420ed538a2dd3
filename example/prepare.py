"""Data preparation and the fixed evaluation of the example experiment (the immutable harness).

Mirrors autoresearch's prepare.py. Run once, `python3 prepare.py` cuts the novel in persuasion.txt
into a training shard and a held-out validation shard and writes them, with the byte vocabulary, to
~/.cache/autoresearch. train.py then loads the data from there, trains for TIME_BUDGET seconds of
wall-clock time and calls evaluate_bpb, which scores the model on the held-out text. The split, the
budget and the metric live here, so an experiment (a change to train.py) cannot move them.
Standard library only.
"""

import json
import math
import os
import sys

TIME_BUDGET = 3  # seconds of training, the protocol's budget
EVAL_BYTES = 16384  # held-out bytes that evaluate_bpb scores
MAX_CONTEXT = 16  # preceding bytes the model is shown for each prediction
VAL_FRACTION = 0.1  # the end of the novel is held out

SOURCE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "persuasion.txt")
CACHE_DIR = os.path.join(os.path.expanduser("~"), ".cache", "autoresearch")
DATA_DIR = os.path.join(CACHE_DIR, "data")
TOKENIZER_DIR = os.path.join(CACHE_DIR, "tokenizer")
TRAIN_SHARD = "train_00000.bin"
VAL_SHARD = "val_00000.bin"
VOCAB_FILE = "vocab.json"


def prepare() -> None:
    """Writes the snapshot: train and validation shards (raw bytes) and the vocabulary."""
    # The real autoresearch keeps its snapshot in the same place: never mix the two.
    foreign = sorted(
        name
        for name in (os.listdir(DATA_DIR) if os.path.isdir(DATA_DIR) else [])
        if not name.startswith(".") and name not in (TRAIN_SHARD, VAL_SHARD)
    )
    if foreign:
        sys.exit(
            f"{DATA_DIR} holds another data snapshot ({', '.join(foreign[:3])}); "
            "run prepare.py with HOME set to another directory"
        )
    with open(SOURCE, "rb") as f:
        text = f.read()
    # Hold out the end of the book, from the start of a paragraph.
    cut = text.index(b"\n\n", len(text) - int(len(text) * VAL_FRACTION)) + 2
    os.makedirs(DATA_DIR, exist_ok=True)
    os.makedirs(TOKENIZER_DIR, exist_ok=True)
    for name, data in ((TRAIN_SHARD, text[:cut]), (VAL_SHARD, text[cut:])):
        with open(os.path.join(DATA_DIR, name), "wb") as f:
            f.write(data)
    with open(os.path.join(TOKENIZER_DIR, VOCAB_FILE), "w") as f:
        json.dump(sorted(set(text)), f)
    print(f"prepared {CACHE_DIR}: {cut} training bytes, {len(text) - cut} held-out bytes")


def check_snapshot() -> None:
    """train.py calls this first: the data must already be there (no downloads during training)."""
    paths = (
        os.path.join(DATA_DIR, TRAIN_SHARD),
        os.path.join(DATA_DIR, VAL_SHARD),
        os.path.join(TOKENIZER_DIR, VOCAB_FILE),
    )
    missing = [p for p in paths if not os.path.exists(p)]
    if missing:
        sys.exit(f"data snapshot missing: {missing}; run prepare.py first")


def load_vocab() -> list:
    """The byte values that occur in the text; a byte's token id is its index in this list."""
    with open(os.path.join(TOKENIZER_DIR, VOCAB_FILE)) as f:
        return json.load(f)


def load_train() -> bytes:
    """The training text."""
    with open(os.path.join(DATA_DIR, TRAIN_SHARD), "rb") as f:
        return f.read()


def evaluate_bpb(predict) -> float:
    """The fixed metric: bits per byte of the model on the first EVAL_BYTES held-out bytes.

    `predict(context)` gets up to MAX_CONTEXT preceding bytes and returns the probability of every
    token of the vocabulary, in vocabulary order. Lower is better.
    """
    with open(os.path.join(DATA_DIR, VAL_SHARD), "rb") as f:
        val = f.read()[:EVAL_BYTES]
    vocab = load_vocab()
    token = {b: i for i, b in enumerate(vocab)}
    bits = 0.0
    for i, byte in enumerate(val):
        probs = predict(val[max(0, i - MAX_CONTEXT) : i])
        total = sum(probs)
        p = probs[token[byte]]
        if len(probs) != len(vocab) or not abs(total - 1.0) < 1e-6 or min(probs) < 0.0 or not p > 0.0:
            raise ValueError(
                f"predict must return {len(vocab)} probabilities that sum to 1 with the actual "
                f"byte's above 0; at held-out byte {i} it returned {len(probs)} summing to {total}"
            )
        bits -= math.log2(p)
    return bits / len(val)


if __name__ == "__main__":
    prepare()
