/**
 * Values shared between requests (reference data, kept free Slots) are frozen all the way down, so a reader that
 * would change one fails loudly instead of corrupting others' answers. What {@link deepFreeze} froze is known to be
 * unchangeable in every part, which is what lets a response reuse its JSON text (`fhir/frozen-json.ts`); an object
 * merely passed to `Object.freeze` is not, since its members may still change.
 */

/** Objects frozen with every descendant by {@link deepFreeze}. */
const deeplyFrozen = new WeakSet<object>();

/** Freezes `value` and everything in it; returns it. */
export function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !deeplyFrozen.has(value)) {
    Object.freeze(value);
    for (const child of Object.values(value as object)) deepFreeze(child);
    deeplyFrozen.add(value);
  }
  return value;
}

/** Whether `value` was frozen with every descendant by {@link deepFreeze} (so it can never change). */
export function isDeeplyFrozen(value: object): boolean {
  return deeplyFrozen.has(value);
}
