import type { FileChanges } from './file-snapshot.js';
import { plural } from './format.js';
import type { OutputTally } from './output-capture.js';
import type { CheckResult } from './report.js';

function share(structured: number, lines: number): string {
  return `${structured}/${lines}`;
}

/**
 * Grades stdout and stderr as CloudWatch Logs receives them: `pass` when every line is a JSON object
 * with a level and a timestamp; `warn` when some are not, or when the app wrote nothing at all. Never
 * `fail`: plain text still reaches the logs, only less useful. `skip` when there is no output to
 * grade (the app never started).
 */
export function gradeLogs(
  stdout: OutputTally | undefined,
  stderr: OutputTally | undefined,
  skipped = 'not run',
): CheckResult {
  const title = 'logs are JSON lines with a level and a timestamp';
  if (stdout === undefined || stderr === undefined) {
    return { id: 'logs', title, status: 'skip', summary: skipped, figures: {} };
  }
  const lines = stdout.lines + stderr.lines;
  const structured = stdout.structured + stderr.structured;
  const figures = {
    lines,
    structured,
    structuredShare: lines === 0 ? null : Math.round((structured / lines) * 1000) / 1000,
    stdoutLines: stdout.lines,
    stdoutStructured: stdout.structured,
    stderrLines: stderr.lines,
    stderrStructured: stderr.structured,
    jsonWithoutLevelOrTime: stdout.jsonIncomplete + stderr.jsonIncomplete,
    firstUnstructured: stdout.firstUnstructured ?? stderr.firstUnstructured ?? null,
  };
  const counts = `stdout ${share(stdout.structured, stdout.lines)}, stderr ${share(stderr.structured, stderr.lines)} lines`;
  if (lines === 0) {
    return {
      id: 'logs',
      title,
      status: 'warn',
      summary: 'no output at all: nothing would reach CloudWatch Logs',
      hint: 'log start-up, requests and shutdown as JSON lines on stdout',
      figures,
    };
  }
  if (structured === lines) {
    return {
      id: 'logs',
      title,
      status: 'pass',
      summary: `all ${plural(lines, 'line')} structured (${counts})`,
      figures,
    };
  }
  const percent = Math.floor((structured / lines) * 100);
  const incomplete =
    figures.jsonWithoutLevelOrTime > 0
      ? `, ${figures.jsonWithoutLevelOrTime} JSON without level or timestamp`
      : '';
  return {
    id: 'logs',
    title,
    status: 'warn',
    summary: `${percent} % structured (${counts}${incomplete}); e.g. ${JSON.stringify(figures.firstUnstructured)}`,
    hint: "write one JSON object per line with a level and a timestamp, so that Logs Insights finds the fields (the kit's logger does)",
    figures,
  };
}

/** What {@link gradeFiles} needs besides the changes. */
export interface FileWatchContext {
  readonly root: string;
  readonly watched: number;
  readonly truncated: boolean;
}

/**
 * Grades the files written in the working directory during the run: `warn` (never `fail`) for each
 * new, modified or deleted file — state on an instance's disk vanishes with the instance, and is not
 * shared between instances — `pass` when none. `skip` when the app never started.
 */
export function gradeFiles(
  changes: FileChanges | undefined,
  context: FileWatchContext,
  skipped: string,
): CheckResult {
  const title = 'no state written to local disk';
  if (changes === undefined) {
    return { id: 'files', title, status: 'skip', summary: skipped, figures: { root: context.root } };
  }
  // A truncated walk can shift its cut-off point: a file past it is not "deleted".
  const deleted = context.truncated ? [] : changes.deleted;
  const written = [
    ...changes.created.map((p) => `${p} (new)`),
    ...changes.modified.map((p) => `${p} (modified)`),
    ...deleted.map((p) => `${p} (deleted)`),
  ];
  const figures = {
    root: context.root,
    watchedFiles: context.watched,
    truncated: context.truncated,
    created: changes.created.length,
    modified: changes.modified.length,
    deleted: deleted.length,
    paths: written.slice(0, 20).join(', '),
  };
  const limits = `${plural(context.watched, 'file')} watched${context.truncated ? ', the first 20000 entries only' : ''}; node_modules, .git and the temp directory skipped`;
  if (written.length === 0) {
    return {
      id: 'files',
      title,
      status: 'pass',
      summary: `nothing written under ${context.root} (${limits})`,
      figures,
    };
  }
  const shown =
    written.slice(0, 5).join(', ') + (written.length > 5 ? `, and ${written.length - 5} more` : '');
  return {
    id: 'files',
    title,
    status: 'warn',
    summary: `${plural(written.length, 'file')} written under ${context.root}: ${shown} — an instance's disk does not survive it, nor is it shared`,
    hint: 'keep state in a database, S3 or a cache; scratch files belong in os.tmpdir()',
    figures,
  };
}
