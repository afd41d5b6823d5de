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
