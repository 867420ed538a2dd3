import { describe, expect, it } from 'vitest';
import { budgetWarnings } from '../src/result/budget.js';
import { parseSummary } from '../src/result/summary.js';
import { builtinProtocol } from '../src/settings/protocol.js';

const protocol = builtinProtocol();
const summaryWith = (line: string) => parseSummary(`---\nval_bpb: 1.5\n${line}\n`, protocol);

describe('budgetWarnings', () => {
  it('is silent within 10 % of the budget, boundaries included', () => {
    expect(protocol.budgetSeconds).toBe(300);
    for (const seconds of [270, 299.9, 302.4, 330]) {
      expect(budgetWarnings(summaryWith(`training_seconds: ${seconds}`), protocol), String(seconds)).toEqual(
        [],
      );
    }
  });

  it('warns about a run that trained more than 10 % shorter, naming both numbers', () => {
    const [warning, ...rest] = budgetWarnings(summaryWith('training_seconds: 150.5'), protocol);
    expect(rest).toEqual([]);
    expect(warning).toContain('150.5 s');
    expect(warning).toContain('300 s');
    expect(warning).toContain('50 % shorter');
  });

  it('warns about a run that trained more than 10 % longer', () => {
    const warnings = budgetWarnings(summaryWith('training_seconds:331'), protocol);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('331 s');
    expect(warnings[0]).toContain('longer');
  });

  it("compares against the protocol's budget, not a constant", () => {
    const tenMinutes = { ...protocol, budgetSeconds: 600 };
    expect(budgetWarnings(summaryWith('training_seconds: 302.4'), tenMinutes)[0]).toContain('600 s');
    expect(budgetWarnings(summaryWith('training_seconds: 590'), tenMinutes)).toEqual([]);
  });

  it('is silent when training_seconds is absent, n/a or not finite', () => {
    for (const line of ['', 'training_seconds: n/a', 'training_seconds: nan']) {
      expect(budgetWarnings(summaryWith(line), protocol)).toEqual([]);
    }
    expect(budgetWarnings(parseSummary('', protocol), protocol)).toEqual([]);
  });
});
