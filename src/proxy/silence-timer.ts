/**
 * One socket's silence timer for the upstream client, across its phases (see
 * upstream-connection.ts): connect, waiting on an exchange, pooled idle.
 *
 * Why not socket.setTimeout() per phase: every call makes a new Timer and a bound function, and
 * following the phases took two calls per proxied request (pooled → exchange → pooled). Instead,
 * once connected, the socket timer stays armed with `tick`, the shorter of the idle and response
 * timeouts, which Node restarts on every read and write. When it fires, expired() adds the
 * silence up and, short of the phase's own limit, arms the timer for what is left; the next
 * activity brings it back to `tick` (backToTick(), a no-op in the usual case).
 */
import type net from 'node:net';

export class SilenceTimer {
  /** The socket timer's current length (0: off). */
  private armedMs: number;
  /** Silence already counted by earlier firings since the last activity. */
  private silentMs = 0;

  /** Arms `socket` with `firstMs` (the connect timeout); `tick` is the length once connected. */
  constructor(
    private readonly socket: net.Socket,
    firstMs: number,
    readonly tick: number,
  ) {
    this.armedMs = firstMs;
    socket.setTimeout(firstMs);
  }

  /** Sets the socket timer to `ms` (0: off) and forgets the silence counted so far. */
  arm(ms: number): void {
    this.silentMs = 0;
    this.armedMs = ms;
    this.socket.setTimeout(ms);
  }

  /**
   * After a read or write (which restarted Node's timer): back to `tick` when a firing left a
   * remainder armed. Call only while the timer is meant to run.
   */
  backToTick(): void {
    if (this.silentMs !== 0 || this.armedMs !== this.tick) this.arm(this.tick);
  }

  /**
   * The timer fired: true when the silence since the last activity has reached `limitMs`;
   * otherwise the timer is armed for the rest and false returned. False too when it is off.
   */
  expired(limitMs: number): boolean {
    if (this.armedMs === 0) return false;
    const silent = this.silentMs + this.armedMs;
    if (silent >= limitMs) return true;
    this.socket.setTimeout(limitMs - silent);
    this.armedMs = limitMs - silent;
    this.silentMs = silent;
    return false;
  }
}
