/**
 * The running configuration of one process: its listeners and the handlers behind them, and
 * changing them without dropping a request.
 *
 * Each listener's server calls a switch, not a handler: reload() builds the whole new app first
 * (a config that fails to build changes nothing), then points every kept listener's switch at it.
 * A request already running keeps the handler it started with, so it finishes on the old config;
 * the old app's resources (upstream pools, health checks, cache stores) are closed only after the
 * stop timeout, when such requests are done. Listeners whose address or TLS did not change keep
 * their sockets; new ones open; removed ones close gracefully.
 */

import type { Config, ListenerConfig } from '../config/model.js';
import type { Server } from '../conn/server.js';
import { createServer, type ServerAddress } from '../conn/server.js';
import type { Handler } from '../handler/types.js';
import { listenOptionsFor, sameListener, serverOptionsFor } from './listener-options.js';

/** The handlers made from one config, and how to release what they hold. */
export type App = {
  /** The handler for requests arriving on `listener` (its TLS decides the scheme). */
  handlerFor(listener: ListenerConfig): Handler;
  /** Reopens the access log file (SIGUSR1, after log rotation). */
  reopenLog(): void;
  close(): Promise<void>;
};

/** What the running process offers an app beyond its config. */
export type AppContext = {
  /** Open client connections over every listener (for the status page). */
  readonly connections: () => number;
};

export type AppBuilder = (config: Config, context: AppContext) => Promise<App>;

type Running = {
  spec: ListenerConfig;
  server: Server;
  /** What the server calls; reload() repoints it. */
  route: { handler: Handler };
};

export class Runtime {
  private readonly build: AppBuilder;
  private readonly log: (line: string) => void;
  private listeners = new Map<string, Running>();
  private app: App | undefined;
  private config: Config | undefined;
  /** Old apps waiting out the stop timeout before close(). */
  private readonly retiring = new Map<App, NodeJS.Timeout>();

  private readonly context: AppContext = { connections: () => this.connectionCount() };

  constructor(build: AppBuilder, log: (line: string) => void) {
    this.build = build;
    this.log = log;
  }

  /** Builds the app and opens every listener; on any failure closes what it opened and throws. */
  async start(config: Config): Promise<void> {
    const app = await this.build(config, this.context);
    try {
      for (const spec of config.listeners) this.listeners.set(spec.id, await this.open(spec, config, app));
    } catch (err) {
      await Promise.all([...this.listeners.values()].map((l) => l.server.close()));
      this.listeners.clear();
      await app.close();
      throw err;
    }
    this.app = app;
    this.config = config;
  }

  /**
   * Moves to `config`. Throws (and changes nothing) when the new app cannot be built or a new
   * listener cannot open; listeners are only closed once everything new is in place.
   */
  async reload(config: Config): Promise<void> {
    const app = await this.build(config, this.context);
    const opened = new Map<string, Running>();
    try {
      for (const spec of config.listeners) {
        const current = this.listeners.get(spec.id);
        if (current !== undefined && sameListener(current.spec, spec)) continue;
        // A listener whose address stays but whose TLS or h2c changed must give its port up first.
        if (current !== undefined && sameBind(current.spec, spec)) continue;
        opened.set(spec.id, await this.open(spec, config, app));
      }
    } catch (err) {
      await Promise.all([...opened.values()].map((l) => l.server.close()));
      await app.close();
      throw err;
    }
    const previous = this.listeners;
    const next = new Map<string, Running>();
    const closing: Running[] = [];
    for (const spec of config.listeners) {
      const current = previous.get(spec.id);
      if (current !== undefined && sameListener(current.spec, spec)) {
        current.route.handler = app.handlerFor(this.resolved(spec));
        next.set(spec.id, current);
        previous.delete(spec.id);
      } else if (opened.has(spec.id)) {
        next.set(spec.id, opened.get(spec.id)!);
      }
    }
    closing.push(...previous.values());
    // Listeners that changed in place: closed first, then reopened on the same address.
    const reopen = config.listeners.filter((spec) => !next.has(spec.id));
    this.listeners = next;
    await Promise.all(closing.map((l) => l.server.close()));
    for (const spec of reopen) {
      try {
        next.set(spec.id, await this.open(spec, config, app));
      } catch (err) {
        this.log(`reload: listener ${spec.id} could not reopen: ${(err as Error).message}`);
      }
    }
    const old = this.app;
    this.app = app;
    this.config = config;
    if (old !== undefined) this.retire(old, config.stopTimeoutMs);
  }

  /** Stops accepting, lets in-flight requests finish (servers cut them after their close timeout), closes the app. */
  async stop(): Promise<void> {
    await Promise.all([...this.listeners.values()].map((l) => l.server.close()));
    this.listeners.clear();
    const apps = [...this.retiring.keys()];
    for (const timer of this.retiring.values()) clearTimeout(timer);
    this.retiring.clear();
    if (this.app !== undefined) apps.push(this.app);
    this.app = undefined;
    await Promise.all(apps.map((app) => app.close()));
  }

  reopenLogs(): void {
    this.app?.reopenLog();
  }

  /** Where each listener is: id and address, for the startup line. */
  addresses(): { id: string; address: ServerAddress; secure: boolean }[] {
    return [...this.listeners.values()].map((l) => ({
      id: l.spec.id,
      address: l.server.address(),
      secure: l.server.secure,
    }));
  }

  /** The open connections over every listener (for the status page). */
  connectionCount(): number {
    let n = 0;
    for (const l of this.listeners.values()) n += l.server.connectionCount;
    return n;
  }

  get current(): Config | undefined {
    return this.config;
  }

  private async open(spec: ListenerConfig, config: Config, app: App): Promise<Running> {
    const route = { handler: app.handlerFor(this.resolved(spec)) };
    const options = await serverOptionsFor(spec, config);
    options.closeTimeoutMs = config.stopTimeoutMs;
    options.maxConnectionsPerClient = config.connectionsPerClient;
    const server = createServer((req, res) => route.handler(req, res), options);
    await server.listen(listenOptionsFor(spec));
    return { spec, server, route };
  }

  /** `httpsRedirectPort: 0` made concrete: the port the first open TLS listener got. */
  private resolved(spec: ListenerConfig): ListenerConfig {
    if (spec.httpsRedirectPort !== 0) return spec;
    for (const l of this.listeners.values()) {
      const address = l.server.address();
      if (l.server.secure && 'port' in address) return { ...spec, httpsRedirectPort: address.port };
    }
    return { ...spec, httpsRedirectPort: 443 };
  }

  /** Closes an old app once requests that started on it have had the stop timeout to finish. */
  private retire(app: App, afterMs: number): void {
    const timer = setTimeout(() => {
      this.retiring.delete(app);
      app
        .close()
        .catch((err: unknown) => this.log(`reload: closing the old config: ${(err as Error).message}`));
    }, afterMs);
    timer.unref();
    this.retiring.set(app, timer);
  }
}

function sameBind(a: ListenerConfig, b: ListenerConfig): boolean {
  return JSON.stringify(a.bind) === JSON.stringify(b.bind);
}
