// Waiting for a condition rather than for a time.
/** `maxDelayMs` bounds the wait between checks; a costly check (a large list) wants it longer. */
export async function waitUntil(check: () => Promise<boolean> | boolean, what: string, timeoutMs = 15_000, maxDelayMs = 100): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let delay = 5;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, delay));
    delay = Math.min(delay * 2, maxDelayMs);
  }
}
