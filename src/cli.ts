import { nodeVersionProblem } from './node-version.js';

// Checked before anything else loads: the rest of the CLI does not load on older Node.
const problem = nodeVersionProblem(process.versions.node);
if (problem) {
  process.stderr.write(`${problem}\n`);
  process.exitCode = 2;
} else {
  // After SIGHUP the terminal is gone and writes to it fail; stopping the training must go on.
  process.stdout.on('error', () => {});
  process.stderr.on('error', () => {});
  const { runCli } = await import('./local-cli.js');
  process.exitCode = await runCli(process.argv.slice(2), {
    out: (text) => process.stdout.write(text),
    err: (text) => process.stderr.write(text),
    env: process.env,
    cwd: process.cwd(),
  });
}
