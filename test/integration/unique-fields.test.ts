// Unique fields through the real API on two servers over one database: a Baremetal's
// serialNumber and a Maintainer's account are refused a second time with a 422 that names the
// holder, also when the creates race each other on both replicas (the database decides then).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../support/database.js';
import { startTestServer, type TestServer } from '../support/server.js';

let a: TestServer;
let b: TestServer;
beforeAll(async () => {
  const databaseUrl = await createTestDatabase();
  a = await startTestServer({ databaseUrl });
  b = await startTestServer({ databaseUrl });
});
afterAll(async () => {
  await a?.stop();
  await b?.stop();
});

const bms = '/apis/virtflow.io/v1alpha1/baremetals';
const mts = '/apis/virtflow.io/v1alpha1/maintainers';
const MERGE = { 'content-type': 'application/merge-patch+json' };

function baremetal(name: string, serialNumber: string) {
  return {
    apiVersion: 'virtflow.io/v1alpha1',
    kind: 'Baremetal',
    metadata: { name },
    spec: { serialNumber, rack: 'rk-1', capacity: { cpu: 8, memory: '64Gi', storage: '1Ti' } },
  };
}

function maintainer(name: string, account: string) {
  return { apiVersion: 'virtflow.io/v1alpha1', kind: 'Maintainer', metadata: { name }, spec: { account } };
}

describe('unique fields', () => {
  it('refuses a second Baremetal with the same serialNumber, naming the host that has it', async () => {
    expect((await a.call('POST', bms, baremetal('host-a', 'SN-0001'))).status).toBe(201);
    const second = await a.call('POST', bms, baremetal('host-b', 'SN-0001'));
    expect(second.status).toBe(422);
    expect(second.body.reason).toBe('Invalid');
    expect(second.body.details.causes).toEqual([
      { reason: 'FieldValueDuplicate', field: 'spec.serialNumber', message: 'Duplicate value: "SN-0001": already used by Baremetal "host-a"' },
    ]);
    // Also on a dry run, and when an update moves another host onto the serial number.
    expect((await a.call('POST', `${bms}?dryRun=All`, baremetal('host-c', 'SN-0001'))).status).toBe(422);
    expect((await b.call('POST', bms, baremetal('host-d', 'SN-0002'))).status).toBe(201);
    const moved = await b.call('PATCH', `${bms}/host-d`, { spec: { serialNumber: 'SN-0001' } }, MERGE);
    expect(moved.status).toBe(422);
    expect(moved.body.message).toContain('already used by Baremetal "host-a"');
    // An update that keeps its own serial number is no duplicate of itself.
    expect((await a.call('PATCH', `${bms}/host-a`, { spec: { description: 'rack 1' } }, MERGE)).status).toBe(200);
  });

  it('lets exactly one of many concurrent creates on two replicas take a serial number', async () => {
    const results = await Promise.all(
      Array.from({ length: 12 }, (_, i) => (i % 2 === 0 ? a : b).call('POST', bms, baremetal(`race-${i}`, 'SN-RACE'))),
    );
    const created = results.filter((r) => r.status === 201);
    expect(created).toHaveLength(1);
    const winner = created[0]!.body.metadata.name as string;
    for (const refused of results.filter((r) => r.status !== 201)) {
      expect(refused.status).toBe(422);
      expect(refused.body.details.causes[0].message).toBe(`Duplicate value: "SN-RACE": already used by Baremetal "${winner}"`);
    }
    const listed = await a.call('GET', bms);
    expect(listed.body.items.filter((i: { spec: { serialNumber: string } }) => i.spec.serialNumber === 'SN-RACE')).toHaveLength(1);
  });

  it('frees a serial number when its host is deleted', async () => {
    expect((await a.call('POST', bms, baremetal('old-host', 'SN-REUSE'))).status).toBe(201);
    expect((await a.call('DELETE', `${bms}/old-host`)).status).toBe(200);
    expect((await b.call('POST', bms, baremetal('new-host', 'SN-REUSE'))).status).toBe(201);
  });

  it('refuses a second Maintainer with the same account, also under concurrent creates', async () => {
    expect((await a.call('POST', mts, maintainer('alice', 'alice'))).status).toBe(201);
    const second = await b.call('POST', mts, maintainer('alice-2', 'alice'));
    expect(second.status).toBe(422);
    expect(second.body.message).toBe('Maintainer.virtflow.io "alice-2" is invalid: spec.account: Duplicate value: "alice": already used by Maintainer "alice"');
    const results = await Promise.all(Array.from({ length: 8 }, (_, i) => (i % 2 ? a : b).call('POST', mts, maintainer(`bob-${i}`, 'bob'))));
    expect(results.filter((r) => r.status === 201)).toHaveLength(1);
    expect(results.filter((r) => r.status === 422)).toHaveLength(7);
  });
});
