import type { AttributeValue } from '@opentelemetry/api';
import type { CloudPlatform } from '../../config/tracing.js';

/** How long the start waits for the ECS or EKS resource attributes before going on without them. */
export const platformDetectionTimeoutMs = 1_500;

/** What {@link detectPlatformResource} found, for the resource and the tracing start-up line. */
export interface PlatformResource {
  readonly attributes: Readonly<Record<string, AttributeValue>>;
  /** `detected (N attributes)`, `none detected (why)`, `timed out after N ms`, `not installed`, `none`. */
  readonly outcome: string;
}

interface DetectorModule {
  readonly awsEcsDetector?: Detector;
  readonly awsEksDetector?: Detector;
}

interface Detector {
  detect(): { attributes?: Record<string, unknown> } | Promise<{ attributes?: Record<string, unknown> }>;
}

const none: PlatformResource = { attributes: {}, outcome: 'none' };

function isAttributeValue(value: unknown): value is AttributeValue {
  if (Array.isArray(value)) return value.every((v) => ['string', 'number', 'boolean'].includes(typeof v));
  return ['string', 'number', 'boolean'].includes(typeof value);
}

/**
 * The resource attributes of the ECS task or EKS cluster the app runs in, from
 * `@opentelemetry/resource-detector-aws` (an optional peer, loaded only on ECS or EKS): task and
 * container ARNs, cluster, launch type, availability zone, container id, log group and stream on
 * ECS (task metadata endpoint v4); the cluster name on EKS. Waits at most `timeoutMs`, then goes on
 * with what has answered, so that a metadata endpoint that hangs never holds the start. Never throws.
 */
export async function detectPlatformResource(
  platform: CloudPlatform | undefined,
  timeoutMs: number = platformDetectionTimeoutMs,
): Promise<PlatformResource> {
  // Only ECS and EKS have a detector here; App Runner has no metadata endpoint to ask.
  if (platform !== 'aws_ecs' && platform !== 'aws_eks') return none;
  let detectors: DetectorModule;
  try {
    detectors = (await import('@opentelemetry/resource-detector-aws')) as DetectorModule;
  } catch {
    return { attributes: {}, outcome: 'not installed (npm install @opentelemetry/resource-detector-aws)' };
  }
  const detector = platform === 'aws_ecs' ? detectors.awsEcsDetector : detectors.awsEksDetector;
  if (detector === undefined) return none;
  const attributes: Record<string, AttributeValue> = {};
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<'timed out'>((resolve) => {
    timer = setTimeout(() => resolve('timed out'), timeoutMs);
    timer.unref();
  });
  let asked = false;
  const detection = (async () => {
    const detected = await detector.detect();
    const entries = Object.entries(detected.attributes ?? {});
    asked = entries.length > 0;
    await Promise.all(
      entries.map(async ([name, value]) => {
        try {
          const settled = await value;
          if (isAttributeValue(settled)) attributes[name] = settled;
        } catch {
          // An attribute the detector could not read is left out.
        }
      }),
    );
    return 'detected' as const;
  })().catch(() => 'failed' as const);
  const outcome = await Promise.race([detection, deadline]);
  clearTimeout(timer);
  const found = { ...attributes };
  const count = Object.keys(found).length;
  return {
    attributes: found,
    outcome:
      outcome === 'timed out'
        ? `timed out after ${timeoutMs} ms (${count} attributes)`
        : outcome === 'failed'
          ? 'failed'
          : count === 0
            ? `none detected (${nothingFound(platform, asked)})`
            : `detected (${count} attributes)`,
  };
}

/**
 * Why a detector that ran gave no attribute, as far as the kit can tell: the detectors swallow
 * their errors, so an endpoint that refused and a platform that is not there look alike.
 */
function nothingFound(platform: 'aws_ecs' | 'aws_eks', asked: boolean): string {
  if (platform === 'aws_eks')
    return 'the EKS detector read no cluster name or container id: see "Resource attributes" in docs/deploy/eks.md';
  return asked
    ? 'the task metadata endpoint could not be read'
    : 'the ECS detector reads ECS_CONTAINER_METADATA_URI_V4 from process.env, where it is unset';
}
