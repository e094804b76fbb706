/**
 * Server: owns the listening socket, the set of live connections and the timeout sweep.
 * One coarse clock, advanced by one interval timer, serves every connection's deadlines, so a
 * request costs no timer of its own.
 */
import { existsSync, unlinkSync } from 'node:fs';
import http2 from 'node:http2';
import net from 'node:net';
import tls from 'node:tls';
import type { Handler } from '../handler/types.js';
import { clientKey } from './client-key.js';
import { type EngineConfig, resolveConfig, type ServerOptions } from './config.js';
import { Connection, type ConnectionOwner } from './connection.js';
import { H2BodyWatch } from './h2-body-watch.js';
import { createHttp2StreamHandler } from './h2-exchange.js';
import { ListenError } from './listen-errors.js';
import { secureServerOptions } from './tls-listener.js';

/** An HTTP/2 session whose socket moves no byte either way for this long is destroyed. */
const HTTP2_IDLE_TIMEOUT_MS = 120_000;
/** Cookie fields an h2 request may carry beyond maxHeaderFields (browsers send one per cookie). */
const MAX_COOKIE_CRUMBS = 180;
/** How often the sweep looks at HTTP/2 sessions' byte counts. */
const HTTP2_IDLE_CHECK_MS = 1000;

/**
 * A session's own socket (node hands out only a proxy that refuses destroy()), its byte count
 * at the sweep's last look, and the clock reading when that count last changed.
 */
type SessionEntry = { readonly socket: net.Socket | undefined; bytes: number; since: number };

const CLIENT_KEY = Symbol('berth.clientKey');
const CLIENT_COUNTS = Symbol('berth.clientCounts');
/** An accepted socket counted against its client's limit: the key and the map it is counted in. */
type CountedSocket = net.Socket & { [CLIENT_KEY]: string; [CLIENT_COUNTS]: Map<string, number> };

export type ListenOptions =
  | { readonly port: number; readonly host?: string; readonly backlog?: number }
  | { readonly path: string; readonly backlog?: number }
  /** A listening socket inherited as a file descriptor (systemd socket activation). */
  | { readonly fd: number };

export type ServerAddress = { port: number; host: string } | { path: string };

export class Server implements ConnectionOwner {
  readonly config: EngineConfig;
  readonly handler: Handler;
  now = Date.now();
  closing = false;
  private readonly connections = new Set<Connection>();
  /** Open sockets per client key (see client-key.ts); a key is deleted when its count reaches 0. */
  private readonly perClient = new Map<string, number>();
  private refusedPerClient = 0;
  private readonly net: net.Server;
  /** Made on the first HTTP/2 connection (ALPN h2, or h2c with prior knowledge). */
  private h2: http2.Http2Server | undefined = undefined;
  /** The deadlines of HTTP/2 request bodies still arriving (made with the HTTP/2 server). */
  private h2Bodies: H2BodyWatch | undefined = undefined;
  private readonly sessions = new Map<http2.ServerHttp2Session, SessionEntry>();
  private sessionsCheckedAt = 0;
  /** The socket being handed to node:http2, whose 'session' event comes during the hand-over. */
  private adopting: net.Socket | undefined = undefined;
  private readonly handshaking = new Set<net.Socket>();
  private sweepTimer: NodeJS.Timeout | undefined = undefined;
  private listened: ServerAddress | undefined = undefined;
  private closed: Promise<void> | undefined = undefined;
  /** Set while close() waits: called when a connection goes, resolves once none are left. */
  private whenIdle: (() => void) | undefined = undefined;

  constructor(handler: Handler, options: ServerOptions = {}) {
    this.handler = handler;
    this.config = resolveConfig(options);
    const tlsOptions = this.config.tls;
    this.net =
      tlsOptions === undefined
        ? net.createServer({ allowHalfOpen: true, noDelay: true }, (socket) => {
            if (this.admit(socket)) this.accept(socket);
            else socket.destroy();
          })
        : tls.createServer(
            // A handshake that stalls is cut like a request head that stalls.
            {
              ...secureServerOptions(tlsOptions),
              allowHalfOpen: true,
              // As for cleartext: an HTTP/2 session never sets it itself, and with Nagle its small
              // HEADERS and DATA frames wait for the peer's delayed ACK.
              noDelay: true,
              handshakeTimeout: this.config.headTimeoutMs,
            },
            (socket) => this.acceptSecure(socket),
          );
    // A failed handshake is the client's problem (a scanner, a wrong CA): drop it quietly.
    this.net.on('tlsClientError', (_err, socket) => socket.destroy());
    if (tlsOptions !== undefined) {
      // Sockets still in their handshake belong to no connection yet: keep them, so close() can
      // cut them instead of waiting for the handshake timeout.
      this.net.on('connection', (socket: net.Socket) => {
        // node's TLS listener has wrapped the socket, but reads nothing before this returns: a
        // socket over the per-client limit is closed before the client's hello is even read.
        if (!this.admit(socket)) {
          socket.destroy();
          return;
        }
        this.handshaking.add(socket);
        socket.once('close', () => this.handshaking.delete(socket));
      });
    }
    this.net.maxConnections = this.config.maxConnections;
  }

  /** Number of open client connections (HTTP/2 sessions included). */
  get connectionCount(): number {
    return this.connections.size + this.sessions.size;
  }

  /**
   * Connections closed at accept since the server started because their client (an IPv4 address,
   * an IPv6 /64) already had maxConnectionsPerClient open.
   */
  get connectionsRefusedPerClient(): number {
    return this.refusedPerClient;
  }

  /** Number of distinct clients (IPv4 addresses, IPv6 /64s) with a connection open. */
  get clientCount(): number {
    return this.perClient.size;
  }

  /** Whether the listener speaks TLS (for URLs: https). */
  get secure(): boolean {
    return this.config.tls !== undefined;
  }

  /**
   * Starts listening on a TCP port (`port: 0` picks a free one) or a unix socket path. Rejects
   * with a ListenError whose message is one line naming the cause and the fix.
   */
  async listen(options: ListenOptions): Promise<void> {
    if (this.listened !== undefined) throw new Error('server is already listening');
    try {
      await this.bind(options);
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      // A socket file left by a server that died: nobody answers on it, so it is safe to replace.
      if ('path' in options && e.code === 'EADDRINUSE' && (await isStaleSocket(options.path))) {
        unlinkSync(options.path);
        try {
          await this.bind(options);
        } catch (again) {
          throw new ListenError(again as NodeJS.ErrnoException, { path: options.path });
        }
      } else {
        throw new ListenError(
          e,
          'path' in options
            ? { path: options.path }
            : 'fd' in options
              ? { path: `fd ${options.fd}` }
              : options,
        );
      }
    }
    const address = this.net.address();
    if (typeof address === 'string') this.listened = { path: address };
    else if (address !== null) this.listened = { port: address.port, host: address.address };
    // Accept errors (EMFILE, ENFILE) must not take the server down; they are reported and it goes on.
    this.net.on('error', (err) => this.reportError(err));
    this.startSweep();
  }

  /** Where the server listens: `{ port, host }` or `{ path }`. Throws before listen() resolves. */
  address(): ServerAddress {
    if (this.listened === undefined) throw new Error('server is not listening');
    return { ...this.listened };
  }

  /**
   * Stops accepting, lets in-flight requests finish, closes idle connections, and after
   * closeTimeoutMs cuts whatever is left. Resolves when every connection is closed.
   */
  close(): Promise<void> {
    this.closed ??= new Promise<void>((resolve) => {
      this.closing = true;
      let listenerClosed = !this.net.listening;
      const deadline = setTimeout(() => {
        for (const conn of this.connections) conn.destroy();
        for (const session of this.sessions.keys()) this.dropSession(session);
      }, this.config.closeTimeoutMs);
      this.whenIdle = () => {
        if (!listenerClosed || this.connections.size > 0 || this.sessions.size > 0) return;
        this.whenIdle = undefined;
        clearTimeout(deadline);
        this.stopSweep();
        resolve();
      };
      if (!listenerClosed) {
        this.net.close(() => {
          listenerClosed = true;
          this.whenIdle?.();
        });
      }
      for (const conn of this.connections) conn.shutdown();
      // GOAWAY: open streams finish, no new ones start (RFC 9113 §6.8).
      for (const session of this.sessions.keys()) session.close();
      // Not one request has been read on these: nothing is owed, so they go now.
      for (const socket of this.handshaking) socket.destroy();
      this.whenIdle();
    });
    return this.closed;
  }

  /** Serves an already-connected socket (used by TLS and HTTP/2 fallbacks, and socket activation). */
  accept(socket: net.Socket): void {
    if (this.closing) {
      socket.destroy();
      return;
    }
    this.connections.add(new Connection(socket, this));
  }

  /**
   * Counts a newly accepted socket against its client's limit. Returns false, counting a refusal,
   * when the client is at the limit; the caller closes the socket. The count is released when the
   * socket closes, whoever holds it by then (HTTP/1.1, HTTP/2, a tunnel). O(1): one Map lookup.
   */
  private admit(socket: net.Socket): boolean {
    // A per-client limit no lower than the total one can never refuse anything: nothing to count
    // (and no per-socket bookkeeping: the idle-connection budget is a few kB per connection).
    if (this.config.maxConnectionsPerClient >= this.config.maxConnections) return true;
    const key = clientKey(socket.remoteAddress);
    if (key === undefined) return true;
    const open = this.perClient.get(key) ?? 0;
    if (open >= this.config.maxConnectionsPerClient) {
      this.refusedPerClient++;
      return false;
    }
    this.perClient.set(key, open + 1);
    const counted = socket as CountedSocket;
    counted[CLIENT_KEY] = key;
    counted[CLIENT_COUNTS] = this.perClient;
    // A shared listener (no closure per connection) finds the key on the socket.
    socket.on('close', releaseClient);
    return true;
  }

  forget(conn: Connection): void {
    this.connections.delete(conn);
    if (this.connections.size === 0) this.whenIdle?.();
  }

  /** ALPN decides: `h2` goes to HTTP/2, anything else (`http/1.1`, none) to the HTTP/1.1 engine. */
  private acceptSecure(socket: tls.TLSSocket): void {
    // The handshake is over: the raw socket under it now belongs to a connection or a session.
    const raw = (socket as tls.TLSSocket & { _parent?: net.Socket })._parent;
    if (raw !== undefined) this.handshaking.delete(raw);
    if (socket.alpnProtocol === 'h2') this.acceptHttp2(socket);
    else this.accept(socket);
  }

  /**
   * Hands a socket to HTTP/2. For h2c the connection has already read the preface: it puts the
   * bytes back (socket.unshift) and node:http2 reads what is buffered before the socket.
   */
  acceptHttp2(socket: net.Socket): void {
    // node:http2 does not close a session whose client ended its side: no half-open sessions.
    socket.allowHalfOpen = false;
    if (this.closing || socket.readableEnded) {
      socket.destroy();
      return;
    }
    this.adopting = socket;
    try {
      this.http2Server().emit('connection', socket);
    } finally {
      this.adopting = undefined;
    }
  }

  /**
   * Destroys a session and forgets it. A session whose socket already ended may never emit
   * 'close', so it is removed here rather than waiting for that event.
   */
  private dropSession(session: http2.ServerHttp2Session): void {
    const socket = this.sessions.get(session)?.socket;
    session.destroy();
    socket?.destroy();
    if (this.sessions.delete(session) && this.sessions.size === 0) this.whenIdle?.();
  }

  private http2Server(): http2.Http2Server {
    if (this.h2 !== undefined) return this.h2;
    const limits = this.config.limits;
    const h2 = http2.createServer({
      maxSessionMemory: 16,
      // The HTTP/1.1 head limits, as HTTP/2 can state them: the field section's size, and a cap on
      // its pairs (pseudo-headers and the cookie crumbs a browser sends one per cookie, Chrome
      // keeping up to 180 a domain, on top of maxHeaderFields). A stream beyond them is reset;
      // one within them but with more than maxHeaderFields other fields gets 431.
      maxHeaderListPairs: limits.maxHeaderFields + 4 + MAX_COOKIE_CRUMBS,
      settings: {
        maxConcurrentStreams: this.config.maxConcurrentStreams,
        maxHeaderListSize: limits.maxHeadBytes,
      },
    });
    this.h2Bodies = new H2BodyWatch(this.config);
    h2.on('stream', createHttp2StreamHandler(this.handler, this.config, this.h2Bodies));
    h2.on('session', (session) => {
      this.sessions.set(session, { socket: this.adopting, bytes: 0, since: this.now });
      session.on('close', () => {
        this.sessions.delete(session);
        if (this.sessions.size === 0) this.whenIdle?.();
      });
      session.on('error', () => this.dropSession(session));
      // A client that ends its side is done with the session (no half-open HTTP/2 sessions).
      session.socket.once('end', () => session.close());
    });
    // No h2.setTimeout(): node would refresh a timer per session on each stream's HEADERS,
    // respond() and write (about 1 µs of 20 per request, measured); the sweep reads byte counts
    // once a second instead (sweepSessions).
    this.h2 = h2;
    return h2;
  }

  reportError(err: unknown): void {
    try {
      this.config.onError(err);
    } catch {
      // An error reporter that throws must not take the connection engine down with it.
    }
  }

  private bind(options: ListenOptions): Promise<void> {
    return new Promise((resolve, reject) => {
      const onError = (err: Error): void => reject(err);
      this.net.once('error', onError);
      const listenOptions: net.ListenOptions | { fd: number } =
        'fd' in options
          ? { fd: options.fd }
          : 'path' in options
            ? { path: options.path, backlog: options.backlog ?? 511 }
            : { port: options.port, host: options.host ?? '127.0.0.1', backlog: options.backlog ?? 511 };
      this.net.listen(listenOptions, () => {
        this.net.off('error', onError);
        resolve();
      });
    });
  }

  /** One timer for all deadlines; it ticks at a quarter of the shortest timeout, at most each second. */
  private startSweep(): void {
    const c = this.config;
    const shortest = Math.min(c.headTimeoutMs, c.idleTimeoutMs, c.bodyTimeoutMs, c.lingerMs);
    const interval = Math.max(10, Math.min(1000, Math.floor(shortest / 4)));
    this.sweepTimer = setInterval(() => this.sweep(), interval);
    this.sweepTimer.unref();
  }

  private stopSweep(): void {
    if (this.sweepTimer !== undefined) clearInterval(this.sweepTimer);
    this.sweepTimer = undefined;
  }

  private sweep(): void {
    const now = Date.now();
    this.now = now;
    for (const conn of this.connections) {
      if (conn.deadline !== 0 && conn.deadline <= now) conn.onTimeout();
    }
    if (this.h2Bodies !== undefined && this.h2Bodies.size > 0) this.h2Bodies.sweep(now);
    if (this.sessions.size > 0 && now - this.sessionsCheckedAt >= HTTP2_IDLE_CHECK_MS) {
      this.sessionsCheckedAt = now;
      this.sweepSessions(now);
    }
  }

  /**
   * Destroys the HTTP/2 sessions idle for HTTP2_IDLE_TIMEOUT_MS, as node's session timeout did:
   * idle means the socket's byte counts did not move, in either direction (any frame counts —
   * a request, a PING, the WINDOW_UPDATEs of a client still reading a long response — and so
   * does a response still being written).
   */
  private sweepSessions(now: number): void {
    for (const [session, entry] of this.sessions) {
      const socket = entry.socket;
      if (socket === undefined) continue;
      const bytes = socket.bytesRead + socket.bytesWritten;
      if (bytes !== entry.bytes) {
        entry.bytes = bytes;
        entry.since = now;
      } else if (now - entry.since >= HTTP2_IDLE_TIMEOUT_MS) {
        this.dropSession(session);
      }
    }
  }
}

/** 'close' listener of a counted socket: gives its place back to its client. */
function releaseClient(this: CountedSocket): void {
  const counts = this[CLIENT_COUNTS];
  const key = this[CLIENT_KEY];
  const open = counts.get(key) ?? 0;
  if (open <= 1) counts.delete(key);
  else counts.set(key, open - 1);
}

/** Whether a unix socket path exists but nothing accepts connections on it. */
function isStaleSocket(path: string): Promise<boolean> {
  if (!existsSync(path)) return Promise.resolve(false);
  return new Promise((resolve) => {
    const probe = net.connect({ path });
    probe.once('connect', () => {
      probe.destroy();
      resolve(false);
    });
    probe.once('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'ECONNREFUSED'));
  });
}

/** Creates a server that answers every request with handler. Call listen() to start it. */
export function createServer(handler: Handler, options?: ServerOptions): Server {
  return new Server(handler, options);
}
