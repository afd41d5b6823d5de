import { describe, expect, it } from 'vitest';
import { runDrain, runUncordon } from './drain.js';

// Bad input is refused before anything is sent, with a message naming the argument.
describe('virtflow drain and uncordon arguments', () => {
  it('refuse a missing or extra host name', async () => {
    await expect(runDrain([])).rejects.toThrow('drain takes one host name');
    await expect(runUncordon(['h1', 'h2'])).rejects.toThrow('uncordon takes one host name');
  });

  it('refuse a --max-unavailable or --timeout that is not a whole number of at least 1', async () => {
    await expect(runDrain(['h1', '--max-unavailable', '0'])).rejects.toThrow('--max-unavailable must be a whole number of at least 1, got "0"');
    await expect(runDrain(['h1', '--timeout', 'soon'])).rejects.toThrow('--timeout must be a whole number of at least 1, got "soon"');
  });

  it('refuse an unknown option', async () => {
    await expect(runDrain(['h1', '--force'])).rejects.toThrow(/--force/);
  });
});
