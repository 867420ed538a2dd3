/**
 * The words a message uses to tell the user what to do, in the vocabulary of whoever runs the
 * job: the action speaks of inputs and workflow_dispatch, the CLI of its commands and flags. The
 * caller picks one; the messages themselves exist once.
 */
export interface Advice {
  /** What to run to establish a baseline, after "Run": "the workflow with workflow_dispatch". */
  baselineRun: string;
  /** How to re-run a train.py that was already scored, before "to re-run it": "set force: true". */
  force: string;
  /** What names the protocol file, after "set"/"point": "the 'protocol' input". */
  protocol: string;
  /** What sets the runs of a baseline, before "≥ 3": "baseline-repeats". */
  baselineRepeats: string;
}

/** The action's words: inputs of the workflow. */
export const ACTION_ADVICE: Advice = {
  baselineRun: 'the workflow with workflow_dispatch',
  force: 'set force: true',
  protocol: "the 'protocol' input",
  baselineRepeats: 'baseline-repeats',
};

/** The local CLI's words: its commands and flags. */
export const CLI_ADVICE: Advice = {
  baselineRun: '`autoresearch-ci baseline`',
  force: 'pass --force',
  protocol: '--protocol',
  baselineRepeats: '--repeats',
};
