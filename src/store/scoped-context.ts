/**
 * A value carried through the async work of one call (`AsyncLocalStorage`), switched off whenever no such call is in
 * flight (issue 16). On Node 20 an enabled AsyncLocalStorage installs promise hooks for the whole process: every
 * promise any request creates pays for them (a Patient search creates about 150, a Slot search about 240; the hooks
 * were a twentieth of a search's CPU on PostgreSQL, where searches never open a write transaction). The store needs
 * a context only around a write transaction (to refuse a nested one) and a fenced run (the lease's fence), so the
 * hooks now run only while one of those is in flight.
 *
 * Disabling is safe because it happens only once every `run` has settled: a call that began inside a run and is
 * still pending afterwards (never awaited) no longer sees the value, as if it had begun after the run.
 *
 * @see https://nodejs.org/docs/latest-v20.x/api/async_context.html#asynclocalstoragedisable
 */
import { AsyncLocalStorage } from 'node:async_hooks';

export class ScopedContext<T> {
  private readonly storage = new AsyncLocalStorage<T>();
  private running = 0;

  /** Runs `fn` with `value` as the context of everything it awaits, until its promise settles. */
  run<R>(value: T, fn: () => Promise<R>): Promise<R> {
    this.running += 1;
    let result: Promise<R>;
    try {
      result = this.storage.run(value, fn);
    } catch (error) {
      this.settled();
      return Promise.reject(error);
    }
    return result.finally(() => this.settled());
  }

  /** The value of the run this call is part of; undefined outside every run. */
  get(): T | undefined {
    return this.running === 0 ? undefined : this.storage.getStore();
  }

  private settled(): void {
    this.running -= 1;
    if (this.running === 0) this.storage.disable();
  }
}
