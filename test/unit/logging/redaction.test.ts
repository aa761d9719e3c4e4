import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../../src/errors.js';
import {
  maxRetiredValues,
  minimumRedactedLength,
  RedactionRegistry,
  redactedText,
} from '../../../src/logging/redaction.js';

/**
 * A registry masking `values` with its matcher built at the next line (a value added since a build
 * is searched plainly for up to a second: the test of that path adds its own).
 */
function registryWith(...values: string[]): RedactionRegistry {
  const registry = new RedactionRegistry();
  for (const value of values) registry.addValue(value);
  registry.addValue('build-the-matcher');
  registry.removeValue('build-the-matcher');
  return registry;
}

const line = (object: unknown) => JSON.stringify(object);

describe('RedactionRegistry.mask', () => {
  it('returns the line untouched when nothing is registered or nothing matches', () => {
    const text = line({ msg: 'hello' });
    expect(new RedactionRegistry().mask(text)).toBe(text);
    expect(registryWith('s3cr3t-value').mask(text)).toBe(text);
  });

  it('masks a value in messages, nested fields and arrays, keeping valid JSON', () => {
    const secret = 's3cr3t-value';
    const masked = registryWith(secret).mask(
      line({ msg: `token is ${secret}!`, a: { b: [`x${secret}y`, 'plain'] }, [secret]: 1 }),
    );
    expect(masked).not.toContain(secret);
    expect(JSON.parse(masked)).toEqual({
      msg: `token is ${redactedText}!`,
      a: { b: [`x${redactedText}y`, 'plain'] },
      [redactedText]: 1,
    });
  });

  it('masks the JSON-escaped and the twice-escaped forms of a value with quotes and backslashes', () => {
    const secret = 'pa"ss\\word\n1';
    const registry = registryWith(secret);
    const once = registry.mask(line({ msg: secret }));
    expect(JSON.parse(once)).toEqual({ msg: redactedText });
    const embedded = JSON.stringify({ password: secret });
    const twice = registry.mask(line({ body: embedded }));
    expect(JSON.parse(twice).body).toBe(JSON.stringify({ password: redactedText }));
  });

  it('masks a value percent-encoded in a URL and in a query string or form', () => {
    // A generated password's punctuation, as Secrets Manager's GetRandomPassword gives it.
    const secret = 'p@ss/w:rd+ (x)!';
    const registry = registryWith(secret);
    const url = `postgres://app:${encodeURIComponent(secret)}@db:5432/app`;
    expect(JSON.parse(registry.mask(line({ msg: `connecting to ${url}` })))).toEqual({
      msg: `connecting to postgres://app:${redactedText}@db:5432/app`,
    });
    const query = new URLSearchParams({ token: secret, page: '2' }).toString();
    expect(JSON.parse(registry.mask(line({ url: `/cb?${query}` })))).toEqual({
      url: `/cb?token=${redactedText}&page=2`,
    });
  });

  it('does not cut an escape sequence in half', () => {
    // "nabcdef" must not match the "n" of an escaped newline "\\n" followed by "abcdef".
    const masked = registryWith('nabcdef').mask(line({ msg: '\nabcdef' }));
    expect(JSON.parse(masked)).toEqual({ msg: '\nabcdef' });
  });

  it('masks a value logged as a number by a string, and leaves numbers it is only part of alone', () => {
    const masked = registryWith('123456789').mask(
      line({
        account: 123456789,
        list: [123456789],
        note: 'pin 123456789',
        other: 1123456789,
        n: 123456789.5,
      }),
    );
    expect(JSON.parse(masked)).toEqual({
      account: redactedText,
      list: [redactedText],
      note: `pin ${redactedText}`,
      other: 1123456789,
      n: 123456789.5,
    });
  });

  it('prefers the longest value when two overlap', () => {
    const masked = registryWith('secret', 'secret-longer').mask(line({ msg: 'a secret-longer b' }));
    expect(JSON.parse(masked).msg).toBe(`a ${redactedText} b`);
  });

  it('masks values of any size a secret may have (64 KB), in each form, and never throws with one in the message', () => {
    // A JSON secret loaded whole: its escaped forms are longer still (a regular expression of them is
    // refused by V8 past about 32 KB).
    const fields = Object.fromEntries(Array.from({ length: 2000 }, (_, i) => [`k${i}`, `v"${i}\\x`]));
    const document = JSON.stringify(fields);
    const pem = `-----BEGIN PRIVATE KEY-----\n${'QUJD+/'.repeat(10_900)}\n-----END PRIVATE KEY-----`;
    expect(document.length).toBeGreaterThan(30_000);
    const registry = registryWith(document, pem);

    const masked = registry.mask(
      line({ msg: 'loaded', key: pem, config: document, body: JSON.stringify({ document }) }),
    );
    expect(JSON.parse(masked)).toEqual({
      msg: 'loaded',
      key: redactedText,
      config: redactedText,
      body: JSON.stringify({ document: redactedText }),
    });
    expect(registry.mask(line({ msg: 'plain' }))).toBe(line({ msg: 'plain' }));
  });

  it('masks a long value whole when a shorter registered value is part of it (a JSON secret and one of its keys)', () => {
    const password = 'hunter2-password';
    const document = JSON.stringify({ username: 'app', password, notes: 'n'.repeat(2000) });
    const masked = registryWith(password, document).mask(line({ a: document, b: `pw ${password}` }));
    expect(JSON.parse(masked)).toEqual({ a: redactedText, b: `pw ${redactedText}` });
  });

  it('leaves a long value alone outside string literals, and inside an escape sequence', () => {
    const value = `n${'a'.repeat(1500)}`;
    const registry = registryWith(value);
    // As a key's name it is masked; after the backslash of an escaped newline it is not the value.
    expect(JSON.parse(registry.mask(line({ [value]: 1 })))).toEqual({ [redactedText]: 1 });
    const escaped = line({ msg: `\n${value.slice(1)}` });
    expect(registry.mask(escaped)).toBe(escaped);
  });

  it('masks a whole number a longer value starting the same way does not cover', () => {
    const registry = registryWith('123456', '123456,7', 'removed-value');
    registry.removeValue('removed-value'); // the matcher is built at the next line, not searched plainly
    expect(registry.mask(line({ a: [123456, 789] }))).toBe(line({ a: [redactedText, 789] }));
    expect(JSON.parse(registry.mask(line({ msg: 'x 123456,7 y' })))).toEqual({ msg: `x ${redactedText} y` });
  });

  it('masks the whole stretch two overlapping values cover, whichever starts first', () => {
    const registry = registryWith('abcdef123', '123456789');
    expect(JSON.parse(registry.mask(line({ msg: 'x abcdef123456789 y' })))).toEqual({
      msg: `x ${redactedText} y`,
    });
  });

  it('masks a value added since the matcher was built at once, overlapping ones as one stretch', () => {
    const password = 'hunter2-password';
    const document = JSON.stringify({ username: 'app', password });
    const registry = registryWith(document);
    expect(registry.mask(line({ msg: 'built' }))).toBe(line({ msg: 'built' })); // builds the matcher
    registry.addValue(password); // searched plainly until the next build
    expect(JSON.parse(registry.mask(line({ a: document, b: `pw ${password}` })))).toEqual({
      a: redactedText,
      b: `pw ${redactedText}`,
    });
    registry.addValue('abcdef123');
    registry.addValue('123456789');
    expect(JSON.parse(registry.mask(line({ msg: 'x abcdef123456789 y' })))).toEqual({
      msg: `x ${redactedText} y`,
    });
  });

  it('masks each of 20,000 values (the matcher is built once, at the next line)', () => {
    const values = Array.from({ length: 20_000 }, (_, i) => `tenant-${i}-key-${(i * 7919).toString(36)}`);
    const registry = registryWith(...values);
    for (const value of [values[0]!, values[9_999]!, values[19_999]!]) {
      expect(JSON.parse(registry.mask(line({ msg: `key ${value}.` })))).toEqual({
        msg: `key ${redactedText}.`,
      });
    }
    expect(registry.mask(line({ msg: 'tenant-1-key' }))).toBe(line({ msg: 'tenant-1-key' }));
  });

  it('stops masking a removed value', () => {
    const registry = registryWith('rotated-out');
    registry.removeValue('rotated-out');
    expect(registry.has('rotated-out')).toBe(false);
    expect(registry.mask(line({ msg: 'rotated-out' }))).toContain('rotated-out');
  });
});

describe('RedactionRegistry.hold and release', () => {
  it('masks a held value until released by each holder, then keeps it masked as retired', () => {
    const registry = new RedactionRegistry();
    registry.hold('db-password-1');
    registry.hold('db-password-1');
    expect(registry.release('db-password-1')).toBe(0);
    expect(registry.release('db-password-1')).toBe(0);
    expect(registry.has('db-password-1')).toBe(true);
    expect(registry.mask(line({ msg: 'db-password-1' }))).toBe(line({ msg: redactedText }));
    // Held again (a rotation back to it): no longer among the retired.
    registry.hold('db-password-1');
    expect(registry.size).toBe(1);
  });

  it(`keeps the ${maxRetiredValues} most recently retired values, and says how many it dropped`, () => {
    const registry = new RedactionRegistry();
    registry.addValue('pinned-value-0');
    registry.hold('pinned-value-0');
    expect(registry.release('pinned-value-0')).toBe(0); // pinned: never retired, never dropped
    for (let i = 0; i < maxRetiredValues; i++) {
      registry.hold(`retired-value-${i}`);
      expect(registry.release(`retired-value-${i}`)).toBe(0);
    }
    registry.hold('one-more-value');
    expect(registry.release('one-more-value')).toBe(1);
    expect(registry.has('retired-value-0')).toBe(false);
    expect(registry.mask(line({ msg: 'retired-value-0' }))).toBe(line({ msg: 'retired-value-0' }));
    expect([registry.has('retired-value-1'), registry.has('pinned-value-0')]).toEqual([true, true]);
    expect(registry.size).toBe(maxRetiredValues + 1);
  });

  it('builds its matcher again at most a twentieth of the time, however fast values come (a new one per tenant)', () => {
    const registry = new RedactionRegistry();
    for (let i = 0; i < maxRetiredValues; i++) {
      const value = `retired-${i}-${(i * 2654435761).toString(36)}`;
      registry.hold(value);
      registry.release(value);
    }
    registry.mask(line({ msg: 'first line' })); // the first build
    const Native = RegExp;
    let builds = 0;
    globalThis.RegExp = class CountedRegExp extends Native {
      constructor(...args: ConstructorParameters<RegExpConstructor>) {
        super(...args);
        builds++;
      }
    } as RegExpConstructor;
    try {
      for (let i = 0; i < 300; i++) {
        registry.hold(`tenant-secret-${i}`);
        expect(registry.mask(line({ msg: `key tenant-secret-${i}` }))).toBe(
          line({ msg: `key ${redactedText}` }),
        );
      }
    } finally {
      globalThis.RegExp = Native;
    }
    // A build of 10,000 values takes milliseconds: not again within twenty times that (before, one
    // every 17 forms: some 18 builds here).
    expect(builds).toBeLessThanOrEqual(3);
  });

  it('removeValue stops masking a value however it was registered', () => {
    const registry = new RedactionRegistry();
    registry.hold('held-value');
    registry.addValue('held-value');
    registry.removeValue('held-value');
    expect(registry.has('held-value')).toBe(false);
    expect(registry.mask(line({ msg: 'held-value' }))).toBe(line({ msg: 'held-value' }));
  });

  it('refuses to hold a value too short to mask', () => {
    expect(() => new RedactionRegistry().hold('abc')).toThrow(InvalidArgumentError);
  });
});

describe('RedactionRegistry.addValue', () => {
  it.each(['', '0', 'abcde', 42, undefined])('refuses %j naming the minimum', (value) => {
    const registry = new RedactionRegistry();
    expect(() => registry.addValue(value as string)).toThrow(InvalidArgumentError);
    expect(() => registry.addValue(value as string)).toThrow(`at least ${minimumRedactedLength} characters`);
    expect(registry.size).toBe(0);
  });

  it('accepts a value of the minimum length once', () => {
    const registry = registryWith('abcdef', 'abcdef');
    expect(registry.size).toBe(1);
  });
});
