// The protocol documents stay true to the code: the OpenAPI file is what protocol.ts
// generates, every path is described on the page, and every example on the page is valid.
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv } from 'ajv';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { protocolOpenApi } from './protocol-openapi.js';
import { protocolSchemas } from './protocol.js';
import { openApiFile, openApiYaml } from './write-openapi.js';

const page = readFileSync(resolve(dirname(fileURLToPath(import.meta.url)), '../../docs/external-controller-protocol.md'), 'utf8');

describe('docs/external-controller-protocol.openapi.yaml', () => {
  it('is what src/providers/protocol.ts generates (regenerate: npx tsx src/providers/write-openapi.ts)', () => {
    expect(readFileSync(openApiFile, 'utf8')).toBe(openApiYaml());
    expect(parse(openApiYaml())).toEqual(protocolOpenApi());
  });

  it('is OpenAPI 3.0 whose every $ref resolves', () => {
    const doc = protocolOpenApi() as { openapi: string; components: { schemas: Record<string, unknown> } };
    expect(doc.openapi).toMatch(/^3\.0\./);
    const refs = [...JSON.stringify(doc).matchAll(/"\$ref":"#\/components\/schemas\/([A-Za-z]+)"/g)].map((m) => m[1]!);
    expect(refs.length).toBeGreaterThan(10);
    for (const name of refs) expect(doc.components.schemas, name).toHaveProperty(name);
  });

  it('uses nothing outside OpenAPI 3.0\'s subset of JSON Schema', () => {
    const text = JSON.stringify(protocolOpenApi());
    for (const keyword of ['"const"', '"$id"', '"type":[', '"examples"']) expect(text).not.toContain(keyword);
  });
});

describe('docs/external-controller-protocol.md', () => {
  it('describes every path of the protocol', () => {
    const doc = protocolOpenApi() as { paths: Record<string, Record<string, unknown>> };
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const method of Object.keys(item).filter((m) => m !== 'parameters')) {
        const pattern = new RegExp(`${method.toUpperCase()} \`?${path.replace(/[{}]/g, '\\$&')}`);
        expect(page, `${method.toUpperCase()} ${path}`).toMatch(pattern);
      }
    }
  });

  it('has examples that are valid against the schemas they are marked with', () => {
    const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false });
    const examples = [...page.matchAll(/<!-- schema: (\w+) -->\n```json\n([\s\S]*?)\n```/g)];
    expect(examples.length).toBeGreaterThanOrEqual(8);
    for (const [, name, body] of examples) {
      const schema = protocolSchemas[name!];
      expect(schema, `schema ${name}`).toBeDefined();
      const validate = ajv.compile(schema!);
      const ok = validate(JSON.parse(body!));
      expect(ok, `${name}: ${JSON.stringify(validate.errors)}`).toBe(true);
    }
  });
});
