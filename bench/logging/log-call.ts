/**
 * bench/logging/log-call: what the kit's `logMethod` hook costs a log call, in process. pino runs a
 * hook on every call, through a rest-argument wrapper; the kit's moves the arguments pino would drop
 * (`logger.error('msg', err)`) into the line. Each call is timed on a logger of `createLogger`, on
 * the same logger with the hook taken off (pino makes its methods again without it), and with a hook
 * that only passes the call on (pino's wrapper alone), in interleaved rounds, lines written to a
 * destination that keeps nothing. Reports lines/s (median), the ratio to the logger without the hook
 * and the ns added per line, measured in the same run, and the part of them that pino's wrapper
 * costs; the last row compares the Powertools order with the hook to pino's own order without it.
 *
 *   npx tsx bench/logging/log-call.ts [-- --rounds 7]   (also printed by npm run bench:logging)
 */
import { type Logger, pino } from 'pino';
import { createLogger } from '../../src/index.js';
import { argNumber } from '../lib/args.js';
import { spread } from '../lib/stats.js';

/** Calls per round: some 50 ms each on a 2-core machine; a tenth of them for a line with an error. */
const callsPerRound = 200_000;

/** The logger as a console-like caller sees it: pino's types take only its own order. */
type LooseLogger = Record<'info' | 'error', (...args: unknown[]) => void>;

interface Row {
  readonly call: string;
  readonly calls: number;
  readonly hooked: (log: LooseLogger) => void;
  readonly bare: (log: LooseLogger) => void;
}

const err = new Error('card declined');
const rows: readonly Row[] = [
  {
    call: "logger.info('msg')",
    calls: callsPerRound,
    hooked: (l) => l.info('msg'),
    bare: (l) => l.info('msg'),
  },
  {
    call: "logger.info({ a: 1 }, 'msg')",
    calls: callsPerRound,
    hooked: (l) => l.info({ a: 1 }, 'msg'),
    bare: (l) => l.info({ a: 1 }, 'msg'),
  },
  {
    call: "logger.info('hello %s', 'world')",
    calls: callsPerRound,
    hooked: (l) => l.info('hello %s', 'world'),
    bare: (l) => l.info('hello %s', 'world'),
  },
  {
    call: "logger.error('msg', err), against logger.error({ err }, 'msg') without the hook",
    calls: callsPerRound / 10,
    hooked: (l) => l.error('msg', err),
    bare: (l) => l.error({ err }, 'msg'),
  },
];

function kitLogger(): Logger {
  return createLogger({ service: 'bench', instance: 'bench', pretty: false, destination: { write() {} } });
}

/** `logger` with `logMethod` as pino's hook in place of the kit's (none when `undefined`). */
function withHook(logger: Logger, logMethod: unknown): Logger {
  const slot = logger as unknown as Record<symbol, Record<string, unknown>>;
  slot[pino.symbols.hooksSym] = { ...slot[pino.symbols.hooksSym], logMethod };
  const { level } = logger;
  logger.level = level; // pino makes its log methods again, from the hooks it now has
  return logger;
}

function passOn(this: Logger, args: unknown[], method: (...args: unknown[]) => void): void {
  method.apply(this, args);
}

function linesPerSecond(call: (log: LooseLogger) => void, log: LooseLogger, calls: number): number {
  const started = process.hrtime.bigint();
  for (let i = 0; i < calls; i++) call(log);
  return calls / (Number(process.hrtime.bigint() - started) / 1e9);
}

/** Lines/s of one row's call on each logger (median of its rounds). */
interface Cost {
  readonly call: string;
  /** The kit's logger, with its hook. */
  readonly kit: number;
  /** The same logger without a hook. */
  readonly bare: number;
  /** With a hook that only passes the call on: pino's wrapper alone. */
  readonly passOn: number;
}

/** Lines/s of each call on the three loggers: medians of `rounds` interleaved rounds. */
export function logCallCost(rounds: number): Cost[] {
  const loggers = {
    kit: kitLogger() as unknown as LooseLogger,
    bare: withHook(kitLogger(), undefined) as unknown as LooseLogger,
    passOn: withHook(kitLogger(), passOn) as unknown as LooseLogger,
  };
  return rows.map((row) => {
    const variants = [
      { call: row.hooked, log: loggers.kit, rounds: [] as number[] },
      { call: row.bare, log: loggers.bare, rounds: [] as number[] },
      { call: row.bare, log: loggers.passOn, rounds: [] as number[] },
    ];
    for (let i = 0; i < row.calls / 10; i++) for (const v of variants) v.call(v.log);
    for (let round = 0; round < rounds; round++) {
      // Each round in another order, so that a slower stretch of the machine falls on all of them.
      for (let k = 0; k < variants.length; k++) {
        const v = variants[(round + k) % variants.length]!;
        v.rounds.push(linesPerSecond(v.call, v.log, row.calls));
      }
    }
    const [kit, bare, passedOn] = variants.map((v) => spread(v.rounds).median) as [number, number, number];
    return { call: row.call, kit, bare, passOn: passedOn };
  });
}

/** Prints {@link logCallCost} as a table. */
export function printLogCallCost(rounds: number): void {
  const ns = (linesPerSecond: number) => 1e9 / linesPerSecond;
  console.log(`\n## The logMethod hook, in process (${rounds} interleaved rounds)\n`);
  console.log(
    "| call | lines/s with the kit's hook | lines/s without a hook | × without | added ns per line | of which pino's hook wrapper |",
  );
  console.log('| --- | --- | --- | --- | --- | --- |');
  for (const { call, kit, bare, passOn } of logCallCost(rounds)) {
    console.log(
      `| \`${call}\` | ${Math.round(kit)} | ${Math.round(bare)} | ${(kit / bare).toFixed(2)} | ${(ns(kit) - ns(bare)).toFixed(0)} | ${(ns(passOn) - ns(bare)).toFixed(0)} |`,
    );
  }
}

if (import.meta.url === `file://${process.argv[1]}`) printLogCallCost(argNumber('rounds', 7));
