/**
 * The experiment repository the end-to-end tests judge: the real protocol shape with a one-second
 * budget, an immutable prepare.py that checks the data snapshot, and a train.py whose result is set
 * by constants an "agent" edits (small noise, so verdicts are clear-cut).
 */

export const PREPARE_PY = `import os, random, sys
TIME_BUDGET = 1
CACHE = os.path.join(os.path.expanduser("~"), ".cache", "autoresearch")

def prepare():
    os.makedirs(os.path.join(CACHE, "data"), exist_ok=True)
    os.makedirs(os.path.join(CACHE, "tokenizer"), exist_ok=True)
    for name in ("shard_00000.parquet", "shard_06542.parquet"):
        with open(os.path.join(CACHE, "data", name), "wb") as f:
            f.write(name.encode() * 100)
    with open(os.path.join(CACHE, "tokenizer", "tokenizer.pkl"), "wb") as f:
        f.write(b"tok" * 100)

def check():
    if not os.path.exists(os.path.join(CACHE, "data", "shard_06542.parquet")):
        sys.exit("no data snapshot")

def evaluate_bpb(model):
    # The test harness's stand-in for the real evaluation: the model's quality plus run-to-run noise.
    return model["value"] + random.gauss(0, 0.002)

if __name__ == "__main__":
    prepare()
`;

/**
 * train.py with the given outcome: a value (noise σ 0.002, measured by the harness's evaluate_bpb),
 * or a crash. `before` is code placed after the imports, `sleep` seconds more of "training".
 */
export function trainPy(
  opts: { value?: number; crash?: boolean; printEnv?: boolean; before?: string; sleep?: number } = {},
): string {
  return `import os, random, sys, time
from prepare import TIME_BUDGET, check, evaluate_bpb
${opts.before ?? ''}
VALUE = ${opts.value ?? 1.8}
CRASH = ${opts.crash ? 'True' : 'False'}
check()
print("Time budget: %ds" % TIME_BUDGET, flush=True)
${opts.printEnv ? 'print("\\n".join("%s=%s" % kv for kv in sorted(os.environ.items())), flush=True)' : ''}
start = time.time()
step = 0
while time.time() - start < 0.3:
    sys.stdout.write("\\rstep %05d (%.1f%%) | loss: 3.000000 | remaining: 0s    " % (step, 50.0))
    sys.stdout.flush()
    step += 1
    time.sleep(0.02)
print()
time.sleep(${opts.sleep ?? 0})
if CRASH:
    raise ValueError("[matmul] shapes do not match")
val_bpb = evaluate_bpb({"value": VALUE})
print("::set-output name=status::keep")
print("---")
print("val_bpb:          %.6f" % val_bpb)
print("training_seconds: 1.0")
print("peak_vram_mb:     2048.0")
print("total_tokens_M:   1.5")
print("num_steps:        %d" % step)
print("num_params_M:     11.5")
`;
}

/** The protocol: the real one's shape, with this project's command, budget and timeout. */
export function protocolJson(
  shared: Record<string, any>,
  opts: { forbidProtocolFile?: boolean } = {},
): string {
  const doc = structuredClone(shared);
  doc.execution.command = 'python3 train.py';
  doc.execution.stopCondition.trainingSecondsBudget = 1;
  doc.execution.hardTimeoutSeconds = 30;
  doc.environment.setupCommands = ['python3 prepare.py'];
  if (opts.forbidProtocolFile !== false)
    doc.mutableSurface.forbiddenGlobs = [...doc.mutableSurface.forbiddenGlobs, 'protocol.json'];
  return `${JSON.stringify(doc, null, 2)}\n`;
}
