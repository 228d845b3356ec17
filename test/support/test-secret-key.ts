/** The secret key test stores seal with unless told otherwise (32 fixed bytes: tests only; issue 15 item 5). */
export const TEST_SECRET_KEYS: readonly Uint8Array[] = [Buffer.alloc(32, 7)];
