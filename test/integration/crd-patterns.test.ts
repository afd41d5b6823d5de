// CRD `pattern`s through the real API: RE2 semantics, so a crafted object is refused in
// linear time, and a CRD with a pattern RE2 cannot compile is refused naming the field.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installCrd, TEST_GROUP } from '../support/api.js';
import { startTestServer, type TestServer } from '../support/server.js';

let vf: TestServer;
beforeAll(async () => {
  vf = await startTestServer();
});
afterAll(async () => {
  await vf?.stop();
});

const CRDS = '/apis/apiextensions.k8s.io/v1/customresourcedefinitions';
const patterned = (ns = 'default') => `/apis/${TEST_GROUP}/v1/namespaces/${ns}/patterneds`;

function crdWithPattern(pattern: string) {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `patterneds.${TEST_GROUP}` },
    spec: {
      group: TEST_GROUP,
      scope: 'Namespaced',
      names: { plural: 'patterneds', singular: 'patterned', kind: 'Patterned', listKind: 'PatternedList' },
      versions: [
        {
          name: 'v1',
          served: true,
          storage: true,
          schema: {
            openAPIV3Schema: {
              type: 'object',
              properties: { spec: { type: 'object', properties: { name: { type: 'string', pattern } } } },
            },
          },
        },
      ],
    },
  };
}

const object = (name: string, value: string) => ({ apiVersion: `${TEST_GROUP}/v1`, kind: 'Patterned', metadata: { name }, spec: { name: value } });

describe('CRD patterns', () => {
  it.each([
    ['a lookahead', '^(?=a)[a-z]+$', 'invalid or unsupported Perl syntax: `(?='],
    ['a backreference', '^(a)\\1$', 'invalid escape sequence: `\\1`'],
  ])('refuses a CRD whose pattern has %s, as Invalid naming the field', async (_what, pattern, detail) => {
    const res = await vf.call('POST', CRDS, crdWithPattern(pattern));
    expect(res.status, res.text).toBe(422);
    expect(res.body).toMatchObject({ kind: 'Status', reason: 'Invalid', code: 422 });
    expect(res.body.details.causes).toContainEqual({
      reason: 'FieldValueInvalid',
      field: 'spec.versions[0].schema.openAPIV3Schema.properties[spec].properties[name].pattern',
      message: expect.stringContaining(`must be a valid regular expression, but isn't: error parsing regexp: ${detail}`),
    });
    expect((await vf.call('GET', `${CRDS}/patterneds.${TEST_GROUP}`)).status).toBe(404);
  });

  it('refuses an object crafted against a backtracking pattern at once, and stays responsive', async () => {
    await installCrd(vf, crdWithPattern('^(a+)+$') as unknown as Parameters<typeof installCrd>[1]);
    const hostile = `${'a'.repeat(50)}!`;
    const [res, ready] = await Promise.all([
      vf.call('POST', patterned(), object('hostile', hostile)),
      vf.call('GET', '/readyz', undefined, { authorization: '' }),
    ]);
    expect(res.status, res.text).toBe(422);
    expect(res.body.details.causes).toEqual([
      { reason: 'FieldValueInvalid', field: 'spec.name', message: `Invalid value: "${hostile}": spec.name in body should match '^(a+)+$'` },
    ]);
    expect(ready.status).toBe(200);
    // JavaScript's RegExp would backtrack about 2^50 steps here: neither answer would come
    // before the test's timeout.
    const fine = await vf.call('POST', patterned(), object('fine', 'a'.repeat(50)));
    expect(fine.status, fine.text).toBe(201);
  });
});
