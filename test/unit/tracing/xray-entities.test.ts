import type AWSXRayModule from 'aws-xray-sdk-core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createLogger } from '../../../src/index.js';
import { DaemonStatus } from '../../../src/tracing/xray/daemon-status.js';
import { DaemonEmitter } from '../../../src/tracing/xray/emitter.js';
import { entityClasses } from '../../../src/tracing/xray/entities.js';
import { omittedAnnotation } from '../../../src/tracing/xray/fit-document.js';
import { loadXrayBackend } from '../../../src/tracing/xray/peer.js';
import { captureLogs } from '../../support/log-capture.js';
import { startXRayDaemon, type XRayDaemon } from '../../support/xray-daemon.js';

const traceId = '1-5759e988-bd862e3fe1be46a994272793';
const parentId = '53995c3f42cd8ad8';

let AWSXRay: typeof AWSXRayModule;
let daemon: XRayDaemon;
let emitter: DaemonEmitter;
let classes: ReturnType<typeof entityClasses>;

beforeAll(async () => {
  await loadXrayBackend();
  AWSXRay = (await import('aws-xray-sdk-core')).default;
  daemon = await startXRayDaemon();
  const logger = createLogger({ service: 'test', destination: captureLogs() });
  emitter = new DaemonEmitter(
    { host: '127.0.0.1', port: daemon.udpPort },
    new DaemonStatus(logger, 'daemon', false),
    logger,
  );
  classes = entityClasses(emitter);
});

afterAll(async () => {
  vi.restoreAllMocks();
  await emitter.close();
  await daemon.close();
});

describe("the kit's segments", () => {
  it('are the SDK’s, with the given trace and parent, and ids from the kit’s generator', () => {
    const segment = new classes.KitSegment('notes-api', traceId, parentId);
    expect(segment).toBeInstanceOf(AWSXRay.Segment);
    expect(segment).toMatchObject({
      name: 'notes-api',
      trace_id: traceId,
      parent_id: parentId,
      in_progress: true,
    });
    expect(segment.id).toMatch(/^[0-9a-f]{16}$/);
    expect(new classes.KitSegment('x').trace_id).toMatch(/^1-[0-9a-f]{8}-[0-9a-f]{24}$/);
    expect(new Set(Array.from({ length: 100 }, () => new classes.KitSegment('x').id)).size).toBe(100);
  });

  it('are written as the SDK writes them', () => {
    const segment = new classes.KitSegment('notes-api', traceId, parentId);
    const subsegment = new classes.KitSubsegment('load note');
    segment.addSubsegment(subsegment);
    segment.addAnnotation('note_id', '7');
    subsegment.close();
    segment.close();
    const sdk = JSON.parse(AWSXRay.Segment.prototype.format.call(segment)) as Record<string, unknown>;
    expect(JSON.parse(segment.format())).toEqual(sdk);
    expect(sdk).not.toHaveProperty('counter');
    expect(JSON.parse(new classes.KitSegment('empty', traceId).format())).not.toHaveProperty('subsegments');
  });

  it('fall back to the SDK’s writer for a BigInt in metadata', () => {
    const segment = new classes.KitSegment('notes-api', traceId);
    segment.addMetadata('big', 12345678901234567890n);
    expect(JSON.parse(segment.format())).toMatchObject({
      metadata: { default: { big: '12345678901234567890' } },
    });
  });

  it('reach the daemon once closed, subsegments inside', async () => {
    await emitter.flush(); // what the tests above closed
    await new Promise((resolve) => setTimeout(resolve, 50));
    daemon.clear();
    const segment = new classes.KitSegment('notes-api', traceId, parentId);
    const subsegment = new classes.KitSubsegment('load note');
    segment.addSubsegment(subsegment);
    segment.close(); // a subsegment is still open: nothing sent yet
    expect(daemon.datagrams).toBe(0);
    subsegment.close();
    await emitter.flush();
    await daemon.waitFor((d) => d.segments.length === 1);
    expect(daemon.segments[0]).toMatchObject({ traceId, parentId, inProgress: false });
    expect(daemon.subsegments).toEqual([
      expect.objectContaining({ name: 'load note', parentId: segment.id }),
    ]);
  });

  it('send a segment too large for a datagram in parts, and each closed part once, however often it is sent', async () => {
    await emitter.flush();
    await new Promise((resolve) => setTimeout(resolve, 50));
    daemon.clear();
    const segment = new classes.KitSegment('notes-api', traceId, parentId);
    for (let i = 0; i < 40; i++) {
      const step = new classes.KitSubsegment(`step ${i}`);
      segment.addSubsegment(step);
      step.addMetadata('payload', 'x'.repeat(2_000));
      step.close();
    }
    const open = new classes.KitSubsegment('still open');
    segment.addSubsegment(open);
    segment.close();
    segment.flush(); // as the kit does at the response's end, a subsegment still open
    open.close(); // the SDK sends the segment again
    await emitter.flush();
    await daemon.waitFor((d) => d.segments.length === 2);
    expect(daemon.subsegments.filter((s) => s.independent)).toHaveLength(40);
    expect(new Set(daemon.subsegments.filter((s) => s.independent).map((s) => s.id)).size).toBe(40);
    expect(daemon.segments.map((s) => s.inProgress)).toEqual([false, false]);
    expect(daemon.subsegments.filter((s) => s.name === 'still open').map((s) => s.inProgress)).toEqual([
      true,
      false,
    ]);
  });

  /** Waits for what was sent before, then forgets it; watches what is cut to fit, or dropped. */
  async function settle() {
    await emitter.flush();
    await new Promise((resolve) => setTimeout(resolve, 50));
    daemon.clear();
    vi.restoreAllMocks();
    return { shrunk: vi.spyOn(emitter.oversize, 'shrunk'), dropped: vi.spyOn(emitter.oversize, 'dropped') };
  }

  it('send a segment too large alone cut to fit, and its subsegments with it: none orphaned', async () => {
    const { shrunk, dropped } = await settle();
    const segment = new classes.KitSegment('notes-api', traceId, parentId);
    for (let i = 0; i < 20; i++) {
      const step = new classes.KitSubsegment(`step ${i}`);
      segment.addSubsegment(step);
      step.close();
    }
    segment.addAnnotation('note_id', '7');
    segment.addMetadata(
      'ids',
      Array.from({ length: 8_000 }, (_, i) => `id-${i}-aaaa`),
    );
    segment.addMetadata('small', 'kept');

    segment.close();
    await emitter.flush();
    await daemon.waitFor((d) => d.segments.length === 1 && d.subsegments.length === 20);

    const [sent] = daemon.segments;
    expect(sent!.document).toMatchObject({
      annotations: { note_id: '7', [omittedAnnotation]: 'metadata' },
      metadata: { default: { small: 'kept' } },
    });
    expect(daemon.subsegments.every((s) => s.independent && s.parentId === segment.id)).toBe(true);
    expect(shrunk).toHaveBeenCalledWith(expect.any(Number), traceId);
    expect(dropped).not.toHaveBeenCalled();
  });

  it('send a subsegment too large alone cut to fit, inside a segment that fits once it is out', async () => {
    const { shrunk } = await settle();
    const segment = new classes.KitSegment('notes-api', traceId, parentId);
    const span = new classes.KitSubsegment('big');
    segment.addSubsegment(span);
    span.addMetadata(
      'rows',
      Array.from({ length: 8_000 }, (_, i) => `row-${i}-bbbb`),
    );
    span.close();
    segment.close();
    await emitter.flush();
    await daemon.waitFor((d) => d.segments.length === 1 && d.subsegments.length === 1);
    expect(daemon.subsegments[0]).toMatchObject({ independent: true, parentId: segment.id });
    expect(daemon.subsegments[0]!.document).toMatchObject({
      annotations: { [omittedAnnotation]: 'metadata' },
    });
    expect(shrunk).toHaveBeenCalledTimes(1);
  });

  it('send a segment or subsegment with thousands of exceptions keeping the newest: the SDK adds a segment’s last, a subsegment’s first', async () => {
    await settle();
    const segment = new classes.KitSegment('notes-api', traceId, parentId);
    const span = new classes.KitSubsegment('import rows');
    segment.addSubsegment(span);
    for (let i = 0; i < 2_000; i++) {
      segment.addError(new Error(`row ${i}: bad value`));
      span.addError(new Error(`row ${i}: bad value`));
    }
    segment.addError(new Error('import failed')); // the route's error, as the request ends
    span.close();
    segment.close();
    await emitter.flush();
    await daemon.waitFor((d) => d.segments.length === 1 && d.subsegments.length === 1);

    const exceptionsOf = (document: Record<string, unknown>) =>
      (document.cause as { exceptions: { message: string }[] }).exceptions.map((e) => e.message);
    const kept = exceptionsOf(daemon.segments[0]!.document);
    expect(kept.length).toBeGreaterThan(100);
    expect(kept.at(-1)).toBe('import failed');
    expect(kept.at(-2)).toBe('row 1999: bad value');
    const [, count] =
      /^stacks exceptions:(\d+)$/.exec(
        (daemon.segments[0]!.document.annotations as Record<string, string>)[omittedAnnotation]!,
      ) ?? [];
    expect(kept.length + Number(count)).toBe(2_001);
    expect(exceptionsOf(daemon.subsegments[0]!.document)[0]).toBe('row 1999: bad value');
  });

  it('mark a segment sent again with what every send left out', async () => {
    await settle();
    const segment = new classes.KitSegment('notes-api', traceId, parentId);
    segment.addMetadata(
      'ids',
      Array.from({ length: 8_000 }, (_, i) => `id-${i}-aaaa`),
    );
    const open = new classes.KitSubsegment('still open');
    segment.addSubsegment(open);
    segment.close();
    segment.flush(); // as the kit does at the response's end, a subsegment still open
    for (let i = 0; i < 2_000; i++) segment.addError(new Error(`row ${i}: bad value`));
    open.close(); // the SDK sends the segment again

    await emitter.flush();
    await daemon.waitFor((d) => d.segments.length === 2);

    const markers = daemon.segments.map(
      (sent) => (sent.document.annotations as Record<string, string>)[omittedAnnotation],
    );
    expect(markers[0]).toBe('metadata');
    expect(markers[1]).toMatch(/^metadata stacks exceptions:\d+$/);
  });

  it('drop a segment that cannot fit, and send none of its subsegments without it', async () => {
    const { dropped } = await settle();
    const segment = new classes.KitSegment('notes-api', traceId, parentId);
    for (let i = 0; i < 5; i++) {
      const step = new classes.KitSubsegment(`step ${i}`);
      segment.addSubsegment(step);
      step.close();
    }
    // Still open, so part of the segment's document: nothing the kit may leave out makes it fit.
    const open = new classes.KitSubsegment('still open') as InstanceType<typeof classes.KitSubsegment> & {
      sql?: unknown;
    };
    segment.addSubsegment(open);
    open.sql = { sanitized_query: 'q'.repeat(70_000) };
    segment.close();
    segment.flush(); // as the kit does at the response's end, a subsegment still open

    await emitter.flush();
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(daemon.datagrams).toBe(0);
    expect(dropped).toHaveBeenCalledTimes(1);
    expect(dropped.mock.calls[0]![0]).toBeGreaterThan(70_000);
  });
});
