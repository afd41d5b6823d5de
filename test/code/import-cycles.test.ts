import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { importCycles, importGraph } from '../support/import-graph.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const relative = (cycles: string[][], from: string) => cycles.map((c) => c.map((f) => path.relative(from, f)));

describe('the import graph', () => {
  it('finds a cycle through value imports and ignores one through type-only imports', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'virtflow-imports-'));
    const files: Record<string, string> = {
      'a.ts': "import { b } from './b.js';\nexport const a = () => b;\n",
      'b.ts': "import { a } from './a.js';\nexport const b = () => a;\n",
      'c.ts': "import type { D } from './d.js';\nexport type C = { d?: D };\nexport const c = 1;\n",
      'd.ts': "import { c } from './c.js';\nexport type D = number;\nexport const d = c;\n",
      'e.ts': "import { type F } from './f.js';\nexport type E = F;\nexport const e = 1;\n",
      'f.ts': "export { e } from './e.js';\nexport type F = string;\n",
    };
    for (const [name, text] of Object.entries(files)) writeFileSync(path.join(dir, name), text);
    expect(relative(importCycles(importGraph(dir)), dir)).toEqual([['a.ts', 'b.ts']]);
  });

  it('has no cycle among the modules of the server (src/) or the portal (ui/src/)', () => {
    for (const dir of ['src', 'ui/src']) expect(relative(importCycles(importGraph(path.join(root, dir))), root)).toEqual([]);
  });
});
