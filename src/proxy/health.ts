/**
 * Active health checks for an upstream group: every `intervalMs`, a GET of `path` to each
 * upstream; an answer with the expected status marks it up, anything else (another status, a
 * refused connection, no answer within `timeoutMs`) marks it down (UpstreamGroup.markDown), so
 * the balancer stops sending it traffic before a client request has to fail there first.
 *
 * The first round runs at once. One check per upstream at a time: a check still running when the
 * next round comes (a slow upstream with a long timeout) is not doubled. Timers are unref'd, so
 * checks never keep the process alive; stop() ends them and aborts checks in flight.
 * Only changes are logged (down, and up again), one line each: a check log that says "still fine"
 * every two seconds is a log nobody reads.
 */
import type { Upstream, UpstreamGroup } from './balancer.js';
import type { UpstreamRequest, UpstreamResponse, UpstreamTarget } from './upstream-types.js';

/** Body bytes of a check response read before the rest is abandoned (the connection then closes). */
const MAX_CHECK_BODY_BYTES = 64 * 1024;

export type HealthCheckOptions = {
  /** origin-form target to GET, e.g. `/healthz`. */
  readonly path: string;
  readonly intervalMs: number;
  /** Status(es) meaning healthy; default any 2xx. */
  readonly expectStatus?: number | readonly number[];
  /** Time for the whole check (connect, head and body). */
  readonly timeoutMs: number;
  /** Where up/down changes go, one line each; default stderr. */
  readonly log?: (line: string) => void;
};

/** What the checks need of the upstream client (UpstreamPool satisfies it). */
export type HealthCheckUpstream = {
  request(target: UpstreamTarget, request: UpstreamRequest): Promise<UpstreamResponse>;
};

/**
 * Starts checking every upstream of `group`; returns stop(). Throws a RangeError for a path that is
 * not origin-form or a non-positive interval or timeout.
 */
export function startHealthChecks(
  group: UpstreamGroup,
  options: HealthCheckOptions,
  pool: HealthCheckUpstream,
): () => void {
  if (!options.path.startsWith('/'))
    throw new RangeError(`health check path "${options.path}" must start with /`);
  for (const [name, value] of [
    ['intervalMs', options.intervalMs],
    ['timeoutMs', options.timeoutMs],
  ] as const) {
    if (!Number.isFinite(value) || value <= 0)
      throw new RangeError(`health check ${name} must be a positive number`);
  }
  const expect = options.expectStatus;
  const healthy =
    expect === undefined
      ? (status: number) => status >= 200 && status < 300
      : typeof expect === 'number'
        ? (status: number) => status === expect
        : (status: number) => expect.includes(status);
  const log = options.log ?? ((line: string) => console.error(`berth: ${line}`));
  const running = new Map<Upstream, AbortController>();
  /** Last verdict per upstream, for logging changes only; absent until the first check. */
  const verdicts = new Map<Upstream, boolean>();
  let stopped = false;

  const checkOne = async (u: Upstream): Promise<void> => {
    if (running.has(u)) return;
    const controller = new AbortController();
    running.set(u, controller);
    const timer = setTimeout(() => controller.abort(), options.timeoutMs);
    timer.unref();
    let reason: string | undefined;
    try {
      const res = await pool.request(u.target, {
        method: 'GET',
        target: options.path,
        // No Host: the pool sends the upstream's authority (`localhost` for a unix socket).
        headers: [['User-Agent', 'berth-health-check']],
        signal: controller.signal,
      });
      await drain(res);
      if (!healthy(res.status)) reason = `status ${res.status}`;
    } catch (err) {
      reason = controller.signal.aborted
        ? `no answer within ${options.timeoutMs} ms`
        : (err as Error).message;
    } finally {
      clearTimeout(timer);
      running.delete(u);
    }
    if (stopped) return;
    const up = reason === undefined;
    if (up) group.markUp(u);
    else group.markDown(u);
    const before = verdicts.get(u);
    verdicts.set(u, up);
    if (up && before === false) log(`health check: upstream ${u.name} is up again`);
    if (!up && before !== false)
      log(`health check: upstream ${u.name} is down: GET ${options.path}: ${reason}`);
  };

  const round = (): void => {
    for (const u of group.upstreams) void checkOne(u);
  };
  const interval = setInterval(round, options.intervalMs);
  interval.unref();
  round();

  return () => {
    if (stopped) return;
    stopped = true;
    clearInterval(interval);
    for (const controller of running.values()) controller.abort();
  };
}

/** Reads a check response's body, up to MAX_CHECK_BODY_BYTES, so its connection can be reused. */
async function drain(res: UpstreamResponse): Promise<void> {
  let bytes = 0;
  for await (const chunk of res.body) {
    bytes += chunk.length;
    if (bytes > MAX_CHECK_BODY_BYTES) {
      res.abort();
      return;
    }
  }
}
