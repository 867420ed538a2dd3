import { describe, expect, it } from 'vitest';
import { CommandError, execaRunner } from '../src/identity/command-runner.js';

describe('execaRunner', () => {
  const run = execaRunner({ timeoutMs: 10_000 });

  it('returns stdout only, even when the program also writes to stderr', async () => {
    const out = await run('sh', [
      '-c',
      'echo "hw.ncpu: 8"; echo "system_profiler[1:2] hw.cpufamily: 0x1" >&2',
    ]);
    expect(out).toBe('hw.ncpu: 8\n');
  });

  it('passes arguments without a shell', async () => {
    const out = await run('printf', ['%s|', 'a b', '$HOME', '*']);
    expect(out).toBe('a b|$HOME|*|');
  });

  it('runs with the C locale so numbers are not localised', async () => {
    const out = await run('sh', ['-c', 'echo "$LC_ALL $LANG"']);
    expect(out.trim()).toBe('C C');
  });

  it('rejects a missing program with notFound set', async () => {
    const error = await run('no-such-program-arci', ['--x']).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CommandError);
    expect((error as CommandError).notFound).toBe(true);
    expect((error as CommandError).message).toContain('no-such-program-arci --x');
  });

  it('rejects a non-zero exit, naming the command and its stderr', async () => {
    const error = await run('sh', ['-c', 'echo partial; echo "sysctl: unknown oid" >&2; exit 3']).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(CommandError);
    expect((error as CommandError).notFound).toBe(false);
    expect((error as CommandError).message).toContain('unknown oid');
    expect((error as CommandError).file).toBe('sh');
  });

  it('kills a command that runs past the timeout', async () => {
    const quick = execaRunner({ timeoutMs: 200 });
    const error = await quick('sleep', ['5']).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CommandError);
    expect((error as CommandError).message).toMatch(/timed out/i);
  });
});
