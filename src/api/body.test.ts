import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeDocument, exceedsDepth, MAX_DOCUMENT_DEPTH, readBody } from './body.js';

/** An object nested `depth` levels deep, alternating maps and lists, built without recursion. */
function nested(depth: number): unknown {
  let value: unknown = 'leaf';
  for (let level = depth; level >= 1; level--) value = level % 2 === 0 ? [value] : { child: value };
  return value;
}

describe('exceedsDepth', () => {
  it('counts maps and lists as levels, and scalars as none', () => {
    expect(exceedsDepth('scalar', 0)).toBe(false);
    expect(exceedsDepth(nested(3), 3)).toBe(false);
    expect(exceedsDepth(nested(4), 3)).toBe(true);
    expect(exceedsDepth({ a: 1, b: [1, { c: { d: 1 } }] }, 3)).toBe(true);
    expect(exceedsDepth({ a: 1, b: [1, { c: 1 }] }, 3)).toBe(false);
  });

  it('stops at the limit, so a document far deeper than the stack allows is refused, not crashed on', () => {
    expect(exceedsDepth(nested(MAX_DOCUMENT_DEPTH), MAX_DOCUMENT_DEPTH)).toBe(false);
    expect(exceedsDepth(nested(200_000), MAX_DOCUMENT_DEPTH)).toBe(true);
  });

  it('makes decodeDocument refuse a too deep body with a 400', () => {
    const deep = `${'['.repeat(MAX_DOCUMENT_DEPTH + 1)}${']'.repeat(MAX_DOCUMENT_DEPTH + 1)}`;
    expect(() => decodeDocument(Buffer.from(deep), 'application/json')).toThrow(new RegExp(`nested more than ${MAX_DOCUMENT_DEPTH} levels`));
    expect(decodeDocument(Buffer.from('{"a":[1]}'), 'application/json')).toEqual({ a: [1] });
  });
});

describe('readBody', () => {
  // Echoes what readBody made of the request, with the limit taken from the path.
  let server: http.Server;
  let port = 0;
  let handlerReached: () => void = () => {};
  beforeAll(async () => {
    server = http.createServer((req, res) => {
      handlerReached();
      // Reached the way the API server reaches it: a microtask after the request event.
      void Promise.resolve().then(() =>
        readBody(req, Number(req.url!.slice(1))).then(
          (body) => res.end(`ok ${body.length} ${body.toString('utf8')}`),
          (err: Error) => res.end(`error ${err.message}`),
        ),
      );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  /** Sends the headers at once and the body in `parts`, each after the handler ran. */
  function send(limit: number, parts: string[], chunked = false): Promise<string> {
    return new Promise((resolve, reject) => {
      const total = parts.reduce((n, p) => n + Buffer.byteLength(p), 0);
      const req = http.request({ port, host: '127.0.0.1', method: 'POST', path: `/${limit}`, headers: chunked ? {} : { 'content-length': total } });
      req.on('response', (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (text += d));
        res.on('end', () => resolve(text));
      });
      req.on('error', reject);
      if (parts.length === 1) {
        req.end(parts[0]);
        return;
      }
      req.flushHeaders();
      handlerReached = () => {
        handlerReached = () => {};
        // The body follows once the handler is already waiting for it.
        setImmediate(() => {
          for (const part of parts.slice(0, -1)) req.write(part);
          req.end(parts.at(-1));
        });
      };
    });
  }

  it('takes a body that came with its headers as it is', async () => {
    expect(await send(1000, ['{"a":"é"}'])).toBe('ok 10 {"a":"é"}');
    expect(await send(1000, [''])).toBe('ok 0 ');
  });

  it('waits for a body that follows its headers, in however many pieces', async () => {
    expect(await send(1000, ['{"a":', '[1,', '2]}'])).toBe('ok 11 {"a":[1,2]}');
    expect(await send(1000, ['{"b":', '3}'], true)).toBe('ok 7 {"b":3}');
  });

  it('refuses a body over the limit however it arrives', async () => {
    expect(await send(5, ['0123456789'])).toMatch(/^error request entity too large: limit is 5 bytes/);
    expect(await send(5, ['0123', '456789'], true)).toMatch(/^error request entity too large: limit is 5 bytes/);
    expect(await send(5, ['0123456789'], true)).toMatch(/^error request entity too large: limit is 5 bytes/);
  });
});

describe('decodeDocument of YAML', () => {
  const yaml = (text: string) => decodeDocument(Buffer.from(text), 'application/yaml');
  const refusal = (text: string) => {
    try {
      yaml(text);
    } catch (err) {
      return err as { code: number; message: string };
    }
    throw new Error('not refused');
  };

  it('refuses duplicate keys at any depth with a 400 naming the key', () => {
    for (const text of ['a: 1\nb: 2\na: 3\n', '{a: 1, a: 2}\n', 'x:\n  - {b: 1, b: 2}\n']) {
      const err = refusal(text);
      expect(err.code, text).toBe(400);
      expect(err.message, text).toMatch(/Map keys must be unique: "[ab]" appears twice/);
    }
  });

  it('refuses a map or a list as a key with a 400 (an object has only string keys)', () => {
    for (const text of ['? [ a ]\n: 1\n', '{[a]: 1}\n', 'x:\n  ? {b: 1}\n  : 2\n']) {
      const err = refusal(text);
      expect(err.code, text).toBe(400);
      expect(err.message, text).toMatch(/a map key must be a scalar/);
    }
  });

  it('refuses a map too large to parse in time with 413 before parsing it, and deep flow brackets with 400', () => {
    // 100,000 keys: the parser's pairwise duplicate check once took minutes over this.
    const many = `data:\n${Array.from({ length: 100_000 }, (_, i) => `  k${i}: v`).join('\n')}\n`;
    expect(refusal(many).code).toBe(413);
    expect(refusal(`a: ${'['.repeat(20_000)}\n`).code).toBe(400);
    expect(refusal(`a: ${'['.repeat(MAX_DOCUMENT_DEPTH + 1)}${']'.repeat(MAX_DOCUMENT_DEPTH + 1)}\n`).message).toContain('nested more than');
    expect(yaml(`data:\n${Array.from({ length: 1000 }, (_, i) => `  k${i}: v`).join('\n')}\n`)).toHaveProperty('data.k999', 'v');
  });

  it('reads JSON sent as YAML (as kubectl sends apply patches) without a YAML parse, and keeps YAML semantics otherwise', () => {
    const big = JSON.stringify({ items: Array.from({ length: 50_000 }, (_, i) => ({ n: i })) });
    expect((yaml(big) as { items: unknown[] }).items).toHaveLength(50_000);
    expect(yaml('{a: yes, b: [1, 2]}\n')).toEqual({ a: 'yes', b: [1, 2] });
    expect(refusal('a: &a [*a]\n').code).toBe(400);
  });
});

