/**
 * A one-shot cancellation signal for upstream exchanges, cheaper than an AbortController.
 *
 * Why not AbortController: making one (and its AbortSignal, an EventTarget) and adding and
 * removing an 'abort' listener took about 5 µs per proxied request under load — more than the
 * rest of the attempt's setup together. The pool only ever needs `aborted`, `reason` and one or
 * two listeners at a time (the socket waiter, then the connection), so a plain object with a
 * small listener list does. It satisfies CancelSignal, as an AbortSignal does.
 */
import type { CancelSignal } from './upstream-types.js';

export class Cancel implements CancelSignal {
  aborted = false;
  reason: unknown = undefined;
  /** The usual case is one listener at a time: kept in a field, an array only beyond that. */
  private first: (() => void) | undefined = undefined;
  private more: (() => void)[] | undefined = undefined;

  addEventListener(_type: 'abort', listener: () => void): void {
    if (this.first === undefined) this.first = listener;
    else (this.more ??= []).push(listener);
  }

  removeEventListener(_type: 'abort', listener: () => void): void {
    if (this.first === listener) {
      this.first = this.more?.shift();
      return;
    }
    const more = this.more;
    if (more === undefined) return;
    const i = more.indexOf(listener);
    if (i !== -1) more.splice(i, 1);
  }

  /** Aborts once with `reason`: every listener is called, then dropped. Later calls do nothing. */
  abort(reason: Error): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    const first = this.first;
    const more = this.more;
    this.first = undefined;
    this.more = undefined;
    first?.();
    if (more !== undefined) for (const listener of more) listener();
  }
}
