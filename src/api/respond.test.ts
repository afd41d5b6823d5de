import type { ServerResponse } from 'node:http';
import { describe, expect, it } from 'vitest';
import { addWarnings } from './respond.js';

/** The Warning headers addWarnings sets, read back as the UTF-8 text on the wire. */
function warningsFor(texts: string[]): string[] | undefined {
  let value: string[] | undefined;
  const res = { headersSent: false, setHeader: (_name: string, v: string[]) => (value = v) } as unknown as ServerResponse;
  addWarnings(res, texts);
  return value?.map((h) => Buffer.from(h, 'latin1').toString('utf8'));
}

describe('addWarnings', () => {
  it('quotes as kube-apiserver does: 299, agent "-", quotes and backslashes escaped, UTF-8 kept', () => {
    expect(warningsFor(['unknown field "spec.日本"', 'a\\b'])).toEqual(['299 - "unknown field \\"spec.日本\\""', '299 - "a\\\\b"']);
  });

  it('drops duplicates, empty texts and texts with control characters or lone surrogates, never throwing', () => {
    expect(warningsFor(['same', 'same', '', 'line\nbreak', 'nul\u0000', 'c1\u0085', 'half \ud800'])).toEqual(['299 - "same"']);
    expect(warningsFor([])).toBeUndefined();
  });

  it('cuts every text to 256 characters once all of them pass 4096, and stops adding at 4096', () => {
    const long = (c: string) => c.repeat(1000);
    const texts = 'abcdefghijklmnopqrstuvwxyz'.split('').map(long);
    const headers = warningsFor(texts)!;
    expect(headers).toHaveLength(16);
    expect(headers[0]).toBe(`299 - "${'a'.repeat(256)}"`);
    expect(warningsFor([long('a'), long('b')])).toEqual([`299 - "${long('a')}"`, `299 - "${long('b')}"`]);
  });
});
