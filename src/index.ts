import { nodeVersionProblem } from './node-version.js';

// Checked before anything else loads: the action does not load on older Node. The message is
// an error annotation, as core.setFailed would write it (which cannot load either).
const problem = nodeVersionProblem(process.versions.node);
if (problem) {
  process.stdout.write(`::error::${problem}\n`);
  process.exitCode = 2;
} else {
  const { run } = await import('./main.js');
  await run();
}
