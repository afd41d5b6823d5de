import { describe, expect, it } from 'vitest';
import { FieldSet } from './fieldset.js';
import { decodeManagedFields, encodeManagedFields, extractManagedFieldsErrors, isResetManagedFields, type Managers } from './managed-fields.js';

describe('extractManagedFieldsErrors', () => {
  const cases: { name: string; input: unknown; want: unknown[] }[] = [
    { name: 'absent managedFields are valid', input: undefined, want: [] },
    {
      name: 'a well-formed entry is valid',
      input: [{ manager: 'kubectl', operation: 'Apply', apiVersion: 'v1', fieldsType: 'FieldsV1', fieldsV1: {} }],
      want: [],
    },
    {
      name: 'an unknown operation is reported at its index',
      input: [{ manager: 'm', operation: 'Patch', fieldsType: 'FieldsV1' }],
      want: [{ type: 'FieldValueInvalid', field: 'metadata.managedFields[0].operation', message: 'Invalid value: "Patch": must be `Apply` or `Update`' }],
    },
    {
      name: 'an unknown fieldsType is reported',
      input: [{ manager: 'm', operation: 'Update', fieldsType: 'FieldsV2' }],
      want: [{ type: 'FieldValueInvalid', field: 'metadata.managedFields[0].fieldsType', message: 'Invalid value: "FieldsV2": must be `FieldsV1`' }],
    },
    {
      name: 'a manager name over 128 bytes is too long',
      input: [{ manager: 'm'.repeat(129), operation: 'Update' }],
      want: [{ type: 'FieldValueTooLong', field: 'metadata.managedFields[0].manager', message: 'Too long: may not be more than 128 bytes' }],
    },
    {
      name: 'a manager name with a control character is invalid',
      input: [{ manager: 'a\tb', operation: 'Update' }],
      want: [{ type: 'FieldValueInvalid', field: 'metadata.managedFields[0].manager', message: 'Invalid value: "a\\tb": invalid character U+0009 (at position 1)' }],
    },
    {
      name: 'something other than a list is invalid as a whole',
      input: { manager: 'x' },
      want: [{ type: 'FieldValueInvalid', field: 'metadata.managedFields', message: 'Invalid value: must be a list of ManagedFieldsEntry' }],
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      expect(extractManagedFieldsErrors(c.input)).toEqual(c.want);
    });
  }
});

describe('decoding and encoding entries', () => {
  it('orders Apply before Update, then by time, then by manager', () => {
    const managers: Managers = new Map();
    const add = (manager: string, operation: 'Apply' | 'Update', time: string) =>
      managers.set(`${manager}/${operation}`, { manager, operation, apiVersion: 'v1', time, set: FieldSet.of([[`f:${manager}`]]) });
    add('z', 'Update', '2024-01-01T00:00:00Z');
    add('b', 'Apply', '2024-01-02T00:00:00Z');
    add('a', 'Apply', '2024-01-02T00:00:00Z');
    add('c', 'Apply', '2024-01-01T00:00:00Z');
    expect(encodeManagedFields(managers).map((e) => `${e.operation}:${e.manager}`)).toEqual(['Apply:c', 'Apply:a', 'Apply:b', 'Update:z']);
  });

  it('drops entries that own nothing', () => {
    const managers: Managers = new Map([['x', { manager: 'x', operation: 'Update', apiVersion: 'v1', set: new FieldSet() }]]);
    expect(encodeManagedFields(managers)).toEqual([]);
  });

  const bad: { name: string; entries: unknown; want: RegExp }[] = [
    { name: 'an entry without an operation cannot be decoded', entries: [{ manager: 'm', apiVersion: 'v1', fieldsType: 'FieldsV1' }], want: /operation/ },
    { name: 'an entry without an apiVersion cannot be decoded', entries: [{ manager: 'm', operation: 'Update', fieldsType: 'FieldsV1' }], want: /apiVersion/ },
    { name: 'an entry without a fieldsType cannot be decoded', entries: [{ manager: 'm', operation: 'Update', apiVersion: 'v1' }], want: /missing fieldsType/ },
  ];
  for (const c of bad) {
    it(c.name, () => {
      expect(() => decodeManagedFields(c.entries)).toThrow(c.want);
    });
  }

  const resets: { name: string; input: unknown; want: boolean }[] = [
    { name: 'an empty list asks for a reset', input: [], want: true },
    { name: 'a list of one empty entry asks for a reset', input: [{}], want: true },
    { name: 'absent managedFields do not', input: undefined, want: false },
    { name: 'a real entry does not', input: [{ manager: 'x' }], want: false },
  ];
  for (const c of resets) {
    it(c.name, () => {
      expect(isResetManagedFields(c.input)).toBe(c.want);
    });
  }
});
