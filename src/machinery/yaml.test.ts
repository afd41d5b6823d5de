import { describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { kubeconfigYaml } from '../cli/kubeconfig.js';
import { toYaml } from './yaml.js';

// Strings YAML 1.1 (go-yaml, so kubectl) reads as something else when they are left unquoted.
const misread = ['On', 'Off', 'on', 'OFF', 'Yes', 'No', 'y', 'n', 'Y', 'N', '~', 'null', 'Null', 'true', 'False', '0755', '0x1F', '0b101', '1:30', '190:20:30', '1_000', '.inf', '-.Inf', '.NaN', '2001-12-14', '1e3', '+12'];

describe('toYaml', () => {
  it('writes every string so that a YAML 1.1 reading gives the same string back', () => {
    const doc = { values: misread, map: Object.fromEntries(misread.map((v, i) => [`k${i}`, v])) };
    expect(YAML.parse(toYaml(doc), { version: '1.1' })).toEqual(doc);
  });

  it('keeps numbers, booleans and null as they are', () => {
    const doc = { n: 12, f: 1.5, t: true, nothing: null, s: 'plain' };
    expect(YAML.parse(toYaml(doc), { version: '1.1' })).toEqual(doc);
  });

  it('is what kubeconfigs are written with: a token that looks like a number stays a string', () => {
    const text = kubeconfigYaml({ server: 'https://127.0.0.1:6443', caCert: 'ca', token: '0755', name: 'on' });
    const read = YAML.parse(text, { version: '1.1' });
    expect(read.users[0].user.token).toBe('0755');
    expect(read['current-context']).toBe('on');
  });
});
