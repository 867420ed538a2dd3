"""The example experiment: a byte-level language model of a Jane Austen novel, standard library only.

An experiment changes this file (hyperparameters, model, optimiser), pushes, and autoresearch-ci
judges the change. The model predicts the next byte from the DEPTH bytes before it: each context
of 1 to DEPTH bytes seen in training owns a row of weights, and the logits of the next byte are the
sum of its contexts' rows and a bias (softmax regression over n-gram features). It learns by plain
SGD, one byte per step, for prepare.TIME_BUDGET seconds of wall-clock time while the learning rate
decays linearly over the budget; prepare.evaluate_bpb then scores it on held-out text. How many
steps fit in the budget depends on the machine, which is where the run-to-run noise comes from.
The output has the format of autoresearch-mlx's train.py.
"""

import math
import resource
import sys
import time

from prepare import TIME_BUDGET, check_snapshot, evaluate_bpb, load_train, load_vocab

# Hyperparameters: the part an experiment changes.
DEPTH = 3  # longest context, in bytes
LEARNING_RATE = 0.02
FINAL_LR_FRACTION = 0.1  # the learning rate decays linearly to this share of LEARNING_RATE
CLOCK_EVERY = 256  # steps between looks at the clock
PRINT_EVERY = 8  # clock looks between progress lines


def softmax(rows: list) -> tuple:
    """Unnormalised probabilities of the summed rows, and their sum."""
    logits = [sum(column) for column in zip(*rows)]
    top = max(logits)
    exps = [math.exp(x - top) for x in logits]
    return exps, sum(exps)


def main() -> None:
    t0 = time.time()
    check_snapshot()
    data = load_train()
    vocab = load_vocab()
    token = {b: i for i, b in enumerate(vocab)}
    targets = [token[b] for b in data]
    print(f"Data/tokenizer loaded in {time.time() - t0:.1f}s")
    print(f"Time budget: {TIME_BUDGET}s")
    print(f"Vocabulary: {len(vocab)} bytes, training text: {len(data)} bytes", flush=True)

    bias = [0.0] * len(vocab)
    table = {}  # context bytes -> weight row

    def rows_of(context: bytes, grow: bool) -> list:
        rows = [bias]
        for k in range(1, min(DEPTH, len(context)) + 1):
            key = context[-k:]
            row = table.get(key)
            if row is None and grow:
                row = table[key] = [0.0] * len(vocab)
            if row is not None:
                rows.append(row)
        return rows

    start = time.time()
    step = 0
    pos = 1
    epoch = 1
    loss_sum = 0.0
    lrm = 1.0
    last = start
    while True:
        if step % CLOCK_EVERY == 0:
            now = time.time()
            elapsed = now - start
            if step % (CLOCK_EVERY * PRINT_EVERY) == 0 and step > 0:
                loss = loss_sum / (CLOCK_EVERY * PRINT_EVERY)
                if math.isnan(loss) or loss > 100:
                    print("FAIL")
                    sys.exit(1)
                sys.stdout.write(
                    f"\rstep {step:05d} ({min(100.0, 100.0 * elapsed / TIME_BUDGET):.1f}%) | loss: {loss:.6f}"
                    f" | lrm: {lrm:.2f} | dt: {(now - last) * 1000:.0f}ms"
                    f" | tok/sec: {CLOCK_EVERY * PRINT_EVERY / (now - last):,.0f}"
                    f" | epoch: {epoch} | remaining: {max(0, TIME_BUDGET - elapsed):.0f}s    "
                )
                sys.stdout.flush()
                loss_sum = 0.0
                last = now
            if elapsed >= TIME_BUDGET:
                break
            lrm = 1.0 - (1.0 - FINAL_LR_FRACTION) * elapsed / TIME_BUDGET
        rows = rows_of(data[max(0, pos - DEPTH) : pos], True)
        exps, total = softmax(rows)
        y = targets[pos]
        loss_sum -= math.log(exps[y] / total)
        # Cross-entropy gradient: softmax minus the one-hot target, the same for every active row.
        lr = LEARNING_RATE * lrm
        scale = lr / total
        for row in rows:
            row[:] = [w - scale * e for w, e in zip(row, exps)]
            row[y] += lr
        step += 1
        pos += 1
        if pos == len(data):
            pos = 1
            epoch += 1
    training_seconds = time.time() - start
    print()
    print(f"Training completed in {training_seconds:.1f}s")

    def predict(context: bytes) -> list:
        exps, total = softmax(rows_of(context, False))
        return [e / total for e in exps]

    print("Starting final eval...")
    eval_start = time.time()
    val_bpb = evaluate_bpb(predict)
    print(f"Final eval completed in {time.time() - eval_start:.1f}s")
    # ru_maxrss is in kilobytes on Linux and in bytes on macOS.
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / (1024 * 1024 if sys.platform == "darwin" else 1024)
    params = (len(table) + 1) * len(vocab)
    print("---")
    print(f"val_bpb:          {val_bpb:.6f}")
    print(f"training_seconds: {training_seconds:.1f}")
    print(f"total_seconds:    {time.time() - t0:.1f}")
    print(f"peak_vram_mb:     {peak:.1f}")
    print("mfu_percent:      0.00")
    print(f"total_tokens_M:   {step / 1e6:.3f}")
    print(f"num_steps:        {step}")
    print(f"num_params_M:     {params / 1e6:.3f}")
    print(f"depth:            {DEPTH}")


if __name__ == "__main__":
    main()
