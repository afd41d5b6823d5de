// Waiting for something with a bound: shutdown steps that talk to a database that may be
// away (killed, frozen) must not hold a process that was asked to stop.

/** Whether `work` settled (resolved or rejected) within `ms`; it is not cancelled otherwise. */
export async function settlesWithin(work: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  try {
    return await Promise.race([work.then(() => true as const, () => true as const), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Runs shutdown steps in order under one budget: each step waits at most for what is left
 * of it, so a database that is away costs the budget once, not once per step. Whether every
 * step settled in time.
 */
export async function stepsWithin(steps: readonly (() => Promise<unknown>)[], totalMs: number): Promise<boolean> {
  const end = Date.now() + totalMs;
  let allSettled = true;
  for (const step of steps) {
    let work: Promise<unknown>;
    try {
      work = step();
    } catch {
      continue;
    }
    if (!(await settlesWithin(work, Math.max(0, end - Date.now())))) allSettled = false;
  }
  return allSettled;
}
