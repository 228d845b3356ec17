import { setImmediate as nextTurn } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { ScopedContext } from '../../src/store/scoped-context.js';

describe('ScopedContext', () => {
  it('carries the value through everything the run awaits, and nothing outside it', async () => {
    const context = new ScopedContext<string>();
    expect(context.get()).toBeUndefined();
    const seen = await context.run('a', async () => {
      await nextTurn();
      const inner = await Promise.resolve().then(() => context.get());
      return [context.get(), inner];
    });
    expect(seen).toEqual(['a', 'a']);
    expect(context.get()).toBeUndefined();
  });

  it('keeps each concurrent run its own value while the others settle', async () => {
    const context = new ScopedContext<string>();
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const long = context.run('long', async () => {
      await gate;
      await nextTurn();
      return context.get();
    });
    // Another run starts and settles while the first is still pending: the first must not lose its value.
    expect(await context.run('short', async () => context.get())).toBe('short');
    await nextTurn();
    release();
    expect(await long).toBe('long');
  });

  it('shadows an outer value in a nested run and restores it after', async () => {
    const context = new ScopedContext<string | undefined>();
    const seen = await context.run('outer', async () => {
      const inner = await context.run(undefined, async () => context.get());
      return [inner, context.get()];
    });
    expect(seen).toEqual([undefined, 'outer']);
  });

  it('settles a run whose function throws at once, and still switches off afterwards', async () => {
    const context = new ScopedContext<string>();
    await expect(
      context.run('x', () => {
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(context.get()).toBeUndefined();
    expect(await context.run('y', async () => context.get())).toBe('y');
  });

  it('forgets the value in work left pending after every run settled', async () => {
    const context = new ScopedContext<string>();
    let later: Promise<string | undefined> | undefined;
    await context.run('a', async () => {
      later = nextTurn().then(async () => {
        await nextTurn();
        await nextTurn();
        return context.get();
      });
    });
    expect(await later).toBeUndefined();
  });
});
