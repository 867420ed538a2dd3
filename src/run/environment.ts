/**
 * The environment the training child starts with.
 *
 * The environment is an allowlist, not a denylist: the runner's process carries the job token,
 * Actions runtime tokens, inputs and the paths of the file-command files, and an experiment's
 * train.py is untrusted code that must see none of them.
 */

/** Variables passed through from the runner's environment when set. */
const PASSED_THROUGH = [
  'PATH',
  'HOME',
  'USER',
  'LOGNAME',
  'LANG',
  'TMPDIR',
  'SHELL',
  'TERM',
  'RUNNER_TRACKING_ID',
] as const;

/**
 * Pinned settings that keep Hugging Face, uv and Python from reaching the network (offline runs).
 * uv is frozen so a `uv run` cannot re-resolve and rewrite the lock file mid-experiment.
 */
const OFFLINE_SETTINGS: Readonly<Record<string, string>> = {
  HF_HUB_OFFLINE: '1',
  HF_DATASETS_OFFLINE: '1',
  TRANSFORMERS_OFFLINE: '1',
  HF_HUB_DISABLE_TELEMETRY: '1',
  UV_OFFLINE: '1',
  UV_FROZEN: '1',
  UV_PYTHON_DOWNLOADS: 'never',
};

/**
 * Builds the environment of the training child from the runner's environment.
 * Only PATH, HOME, USER, LOGNAME, LANG, LC_*, TMPDIR, SHELL, TERM and RUNNER_TRACKING_ID pass
 * through; `PYTHONUNBUFFERED=1` is always set (progress must stream, not arrive at exit) and the
 * offline settings are added when `offline` is true.
 */
export function buildChildEnv(parent: NodeJS.ProcessEnv, opts: { offline: boolean }): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(parent)) {
    if (value === undefined) continue;
    if ((PASSED_THROUGH as readonly string[]).includes(key) || /^LC_[A-Z_]+$/.test(key)) env[key] = value;
  }
  if (opts.offline) Object.assign(env, OFFLINE_SETTINGS);
  env['PYTHONUNBUFFERED'] = '1';
  return env;
}
