import type { Reporter, TestModule } from 'vitest/node';

/**
 * Prints the conformance results as a table, one row per check and one column per adapter:
 * `pass`, `FAIL`, or `n/a` (skipped: the framework has nothing to conform to).
 */
export default class ConformanceTableReporter implements Reporter {
  onTestRunEnd(testModules: readonly TestModule[]): void {
    const adapters: string[] = [];
    const checks: string[] = [];
    const results = new Map<string, string>();
    for (const module of testModules) {
      for (const test of module.children.allTests()) {
        const adapter = test.parent.type === 'suite' ? test.parent.name : '?';
        if (!adapters.includes(adapter)) adapters.push(adapter);
        if (!checks.includes(test.name)) checks.push(test.name);
        const state = test.result().state;
        results.set(
          `${adapter}\u0000${test.name}`,
          state === 'passed' ? 'pass' : state === 'failed' ? 'FAIL' : 'n/a',
        );
      }
    }
    const lines = [
      '',
      '## Conformance: every adapter, every check',
      '',
      `| check | ${adapters.join(' | ')} |`,
      `| --- | ${adapters.map(() => '---').join(' | ')} |`,
      ...checks.map(
        (check) =>
          `| ${check} | ${adapters.map((a) => results.get(`${a}\u0000${check}`) ?? '–').join(' | ')} |`,
      ),
      '',
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
  }
}
