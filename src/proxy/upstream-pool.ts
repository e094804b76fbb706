/**
 * Berth's upstream HTTP/1.1 client: keep-alive socket pools per upstream, shared by the forward
 * proxy, the reverse proxy and the cache. Hand-written on node:net / node:tls and wire/, per the
 * contract in upstream-types.ts.
 *
 * Pooling, per target key (`host:port:tls[:servername]` or `unix:path`):
 * - idle sockets are reused last-in first-out (the warmest one; the coldest age out), and are
 *   unref'd so an idle pool never keeps the process alive;
 * - at most maxSockets are open (connecting, busy or idle); further requests wait in order, each
 *   for at most responseTimeoutMs, and take a released socket or a freed slot;
 * - a socket the upstream closes while idle leaves the pool at its 'end' / 'close';
 * - an idle socket closes after idleTimeoutMs, below the usual 5 s server keep-alive, so the
 *   upstream rarely closes one under a request.
 * When it does anyway (the close crossed our request on the wire), the request is sent once more
 * on a fresh socket if that is safe: nothing was sent, or the method is idempotent with no body
 * (RFC 9112 §9.3.1: "a user agent MUST NOT automatically retry a request with a non-idempotent
 * method"). Otherwise the UpstreamError says requestSent and the caller decides.
 */
import { type ConnectionOwner, type ConnectionTimeouts, UpstreamConnection } from './upstream-connection.js';
import { abortReason, Exchange } from './upstream-exchange.js';
import { hasBody, type PreparedRequest, prepareHead, prepareRequest } from './upstream-request.js';
import { type SocketSettings, socketSettings, targetKey } from './upstream-socket.js';
import {
  type CancelSignal,
  UpstreamError,
  type UpstreamPoolOptions,
  type UpstreamRequest,
  type UpstreamResponse,
  type UpstreamTarget,
  type UpstreamUpgrade,
} from './upstream-types.js';

export const DEFAULT_MAX_SOCKETS = 64;
export const DEFAULT_IDLE_TIMEOUT_MS = 4_000;
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
export const DEFAULT_RESPONSE_TIMEOUT_MS = 60_000;

/** Socket counts of one upstream: open = idle + active (active includes connecting). */
export type UpstreamStats = { open: number; idle: number; active: number };

/** A request waiting for a socket. */
type Waiter = {
  /** The stale-socket retry: wants a new socket, not a pooled one. */
  readonly fresh: boolean;
  readonly resolve: (conn: UpstreamConnection) => void;
  readonly reject: (err: Error) => void;
  readonly timer: NodeJS.Timeout;
  readonly signal: CancelSignal | undefined;
  readonly onAbort: () => void;
};

/** Makes sockets for one target, keeps the idle ones and the waiting requests. */
class TargetPool implements ConnectionOwner {
  readonly idle: UpstreamConnection[] = [];
  open = 0;
  private readonly waiters: Waiter[] = [];

  constructor(
    private readonly owner: UpstreamPool,
    private readonly target: UpstreamTarget,
    private readonly key: string,
  ) {}

  /**
   * Runs `ex` on a socket: the warmest idle one at once (no promise in between, the common case
   * under load), else a new or released one when there is one. `fresh`: a new socket only.
   */
  start(ex: Exchange, fresh: boolean): void {
    if (!fresh) {
      for (let conn = this.idle.pop(); conn !== undefined; conn = this.idle.pop()) {
        if (conn.usable) {
          conn.send(ex);
          return;
        }
        this.retire(conn);
      }
    }
    this.acquire(fresh, ex.options.signal).then((conn) => conn.send(ex), ex.reject);
  }

  replay(ex: Exchange, err: UpstreamError): void {
    if (ex.replayed) {
      ex.reject(err);
      return;
    }
    if (this.owner.closed) {
      ex.reject(new UpstreamError('connect', 'the upstream pool is closed', false));
      return;
    }
    const signal = ex.options.signal;
    if (signal?.aborted) {
      ex.reject(abortReason(signal));
      return;
    }
    this.start(ex.again(), true);
  }

  private acquire(fresh: boolean, signal: CancelSignal | undefined): Promise<UpstreamConnection> {
    if (!fresh) {
      for (let conn = this.idle.pop(); conn !== undefined; conn = this.idle.pop()) {
        if (conn.usable) return Promise.resolve(conn);
        this.retire(conn);
      }
    }
    if (this.open < this.owner.maxSockets) return this.connect();
    const coldest = this.idle[0];
    if (coldest !== undefined) {
      // A fresh socket is wanted and every slot is taken: the coldest idle one makes room
      // (connect first, so the slot it frees is not given to a waiter as well).
      const opened = this.connect();
      this.retire(coldest);
      return opened;
    }
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        fresh,
        resolve,
        reject,
        signal,
        timer: setTimeout(() => {
          this.dropWaiter(waiter);
          const ms = this.owner.responseTimeoutMs;
          reject(new UpstreamError('timeout', `no free upstream connection within ${ms} ms`, false));
        }, this.owner.responseTimeoutMs).unref(),
        onAbort: () => {
          this.dropWaiter(waiter);
          reject(abortReason(signal));
        },
      };
      signal?.addEventListener('abort', waiter.onAbort);
      this.waiters.push(waiter);
    });
  }

  released(conn: UpstreamConnection): void {
    if (this.owner.closed) {
      this.retire(conn);
      return;
    }
    const waiter = this.takeWaiter();
    if (waiter === undefined) {
      conn.park();
      this.idle.push(conn);
    } else if (!waiter.fresh) {
      waiter.resolve(conn);
    } else {
      const opened = this.connect();
      this.retire(conn);
      opened.then(waiter.resolve, waiter.reject);
    }
  }

  gone(conn: UpstreamConnection): void {
    if (!conn.counted) return;
    conn.counted = false;
    this.open--;
    const i = this.idle.lastIndexOf(conn);
    if (i !== -1) this.idle.splice(i, 1);
    if (this.open < this.owner.maxSockets) {
      const waiter = this.takeWaiter();
      if (waiter !== undefined) this.connect().then(waiter.resolve, waiter.reject);
    }
    if (this.open === 0 && this.waiters.length === 0) this.owner.forget(this.key, this);
  }

  /** Closes a socket the pool no longer wants; its slot is free at once. */
  retire(conn: UpstreamConnection): void {
    conn.socket.destroy();
    this.gone(conn);
  }

  /** Fails every waiting request (the pool is closing). */
  rejectWaiters(err: Error): void {
    for (let w = this.takeWaiter(); w !== undefined; w = this.takeWaiter()) w.reject(err);
  }

  private connect(): Promise<UpstreamConnection> {
    let conn: UpstreamConnection;
    try {
      // Throws for a target net.connect refuses outright (a port out of range).
      conn = new UpstreamConnection(this.target, this.owner.socketSettings, this.owner.timeouts, this);
    } catch (err) {
      return Promise.reject(err);
    }
    this.owner.adopt(this.key, this);
    this.open++;
    return conn.ready.then(() => conn);
  }

  private takeWaiter(): Waiter | undefined {
    const waiter = this.waiters.shift();
    if (waiter !== undefined) {
      clearTimeout(waiter.timer);
      waiter.signal?.removeEventListener('abort', waiter.onAbort);
    }
    return waiter;
  }

  private dropWaiter(waiter: Waiter): void {
    const i = this.waiters.indexOf(waiter);
    if (i !== -1) this.waiters.splice(i, 1);
    clearTimeout(waiter.timer);
    waiter.signal?.removeEventListener('abort', waiter.onAbort);
  }
}

/**
 * Keep-alive pools of upstream sockets, one per target. Requests to one target share its pool;
 * close() ends them all. Options are read once, at construction.
 */
export class UpstreamPool {
  readonly maxSockets: number;
  readonly responseTimeoutMs: number;
  readonly timeouts: ConnectionTimeouts;
  readonly socketSettings: SocketSettings;
  closed = false;
  private readonly pools = new Map<string, TargetPool>();
  private readonly keys = new WeakMap<UpstreamTarget, string>();

  constructor(options: UpstreamPoolOptions = {}) {
    this.maxSockets = positive(options.maxSockets, DEFAULT_MAX_SOCKETS, 'maxSockets');
    this.responseTimeoutMs = positive(
      options.responseTimeoutMs,
      DEFAULT_RESPONSE_TIMEOUT_MS,
      'responseTimeoutMs',
    );
    this.timeouts = Object.freeze({
      connectTimeoutMs: positive(options.connectTimeoutMs, DEFAULT_CONNECT_TIMEOUT_MS, 'connectTimeoutMs'),
      responseTimeoutMs: this.responseTimeoutMs,
      idleTimeoutMs: positive(options.idleTimeoutMs, DEFAULT_IDLE_TIMEOUT_MS, 'idleTimeoutMs'),
    });
    this.socketSettings = socketSettings(options.ca, options.insecure === true);
  }

  /**
   * Sends a request and resolves at the final response head; 1xx heads go to onInformational.
   * The body streams from `response.body`: read it to the end (the socket then returns to the
   * pool) or call abort(). Rejects with TypeError for a request that cannot be written (before any
   * socket is used), UpstreamError for the upstream's failures, the request body's own error,
   * or the signal's reason.
   */
  request(target: UpstreamTarget, req: UpstreamRequest): Promise<UpstreamResponse> {
    // Only an exchange started as an upgrade can settle with a socket: the connection refuses a
    // 101 (or a 2xx to CONNECT) to anything else as a protocol error.
    return this.exchange(target, req, false) as Promise<UpstreamResponse>;
  }

  /**
   * Sends an Upgrade request (with an Upgrade field; `Connection: Upgrade` is added when missing)
   * or a CONNECT, without a body. A 101 — or a 2xx to CONNECT — resolves to an UpstreamUpgrade:
   * the socket, paused and no longer the pool's, and the bytes already read past the head. Any
   * other final status resolves to an ordinary response.
   */
  upgrade(target: UpstreamTarget, req: UpstreamRequest): Promise<UpstreamUpgrade | UpstreamResponse> {
    return this.exchange(target, req, true);
  }

  /** Socket counts for `target` (the least-conn balancer reads `active`). */
  stats(target: UpstreamTarget): UpstreamStats {
    const pool = this.pools.get(targetKey(target));
    if (pool === undefined) return { open: 0, idle: 0, active: 0 };
    return { open: pool.open, idle: pool.idle.length, active: pool.open - pool.idle.length };
  }

  /**
   * Closes idle sockets and refuses new requests; waiting requests fail. Exchanges under way
   * finish, and their sockets close instead of returning to the pool.
   */
  close(): void {
    this.closed = true;
    const err = new UpstreamError('connect', 'the upstream pool is closed', false);
    for (const pool of [...this.pools.values()]) {
      pool.rejectWaiters(err);
      for (const conn of [...pool.idle]) pool.retire(conn);
    }
  }

  /** A pool with no sockets and no waiters is dropped (TargetPool calls this)... */
  forget(key: string, pool: TargetPool): void {
    if (this.pools.get(key) === pool) this.pools.delete(key);
  }

  /** ...and taken back when it opens a socket again in the same turn. */
  adopt(key: string, pool: TargetPool): void {
    if (!this.pools.has(key)) this.pools.set(key, pool);
  }

  /** A request without body bytes is prepared and started in this turn: no promise but its own. */
  private exchange(
    target: UpstreamTarget,
    req: UpstreamRequest,
    upgrade: boolean,
  ): Promise<UpstreamResponse | UpstreamUpgrade> {
    if (hasBody(req)) return this.exchangeWithBody(target, req, upgrade);
    let prepared: PreparedRequest;
    try {
      prepared = prepareHead(target, req, upgrade);
    } catch (err) {
      return Promise.reject(err);
    }
    return this.start(target, prepared, req, upgrade);
  }

  private async exchangeWithBody(
    target: UpstreamTarget,
    req: UpstreamRequest,
    upgrade: boolean,
  ): Promise<UpstreamResponse | UpstreamUpgrade> {
    const prepared = await prepareRequest(target, req, upgrade);
    return this.start(target, prepared, req, upgrade);
  }

  private start(
    target: UpstreamTarget,
    prepared: PreparedRequest,
    req: UpstreamRequest,
    upgrade: boolean,
  ): Promise<UpstreamResponse | UpstreamUpgrade> {
    if (this.closed)
      return Promise.reject(new UpstreamError('connect', 'the upstream pool is closed', false));
    if (req.signal?.aborted) return Promise.reject(abortReason(req.signal));
    const pool = this.poolFor(target);
    return new Promise((resolve, reject) => {
      pool.start(new Exchange(prepared, upgrade, req, resolve, reject), false);
    });
  }

  private poolFor(target: UpstreamTarget): TargetPool {
    // Callers keep one target object per upstream: its key is worked out once, not per request.
    let key = this.keys.get(target);
    if (key === undefined) {
      key = targetKey(target);
      this.keys.set(target, key);
    }
    let pool = this.pools.get(key);
    if (pool === undefined) {
      pool = new TargetPool(this, target, key);
      this.pools.set(key, pool);
    }
    return pool;
  }
}

function positive(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!(Number.isFinite(value) && value > 0)) throw new RangeError(`${name} must be a positive number`);
  return value;
}
