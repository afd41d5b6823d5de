import { describe, expect, it } from 'vitest';
import { parseFieldSelector } from '../machinery/fields.js';
import { parseLabelSelector } from '../machinery/labels.js';
import { auditPageSql, decodeAuditContinue, encodeAuditContinue, parseId } from './query.js';

/** The WHERE clause of a page with these selectors, parameters inlined for reading. */
function where(opts: { labels?: string; fields?: string }): string {
  const { text, values } = auditPageSql({
    labels: opts.labels === undefined ? undefined : parseLabelSelector(opts.labels),
    fields: opts.fields === undefined ? undefined : parseFieldSelector(opts.fields),
    limit: 10,
  });
  const clause = /WHERE ([\s\S]*?)\s+ORDER BY/.exec(text)?.[1] ?? '';
  return clause.replace(/\$(\d+)/g, (_, n: string) => JSON.stringify(values[Number(n) - 1]));
}

describe('auditPageSql', () => {
  const cases: [string, { labels?: string; fields?: string }, string][] = [
    ['A label no event carries matches nothing when required.', { labels: 'team=a' }, 'FALSE'],
    ['A label no event carries matches everything when refused.', { labels: '!team' }, 'TRUE'],
    ['notin on a label no event carries matches everything.', { labels: 'team notin (a)' }, 'TRUE'],
    ['Greater than a whole second starts at the next second.', { labels: 'audit.virtflow.io/time>100' }, 'time >= to_timestamp("101")'],
    ['Less than a second ends before it.', { labels: 'audit.virtflow.io/time<100' }, 'time < to_timestamp("100")'],
    ['A time beyond the year 9999 is decided without the table.', { labels: 'audit.virtflow.io/time>999999999999999' }, 'FALSE'],
    ['Equality with a time label value is that whole second.', { labels: 'audit.virtflow.io/time=5' }, '((time >= to_timestamp("5") AND time < to_timestamp("6")))'],
    ['A label value the event never prints ("05") matches nothing.', { labels: 'audit.virtflow.io/code=05' }, '(FALSE)'],
    ['A code beyond int32 is decided without the table.', { labels: 'audit.virtflow.io/code<99999999999' }, 'TRUE'],
    ['A non-numeric code selects nothing.', { fields: 'responseStatus.code=abc' }, 'FALSE'],
    ['!= on a non-numeric name selects everything.', { fields: 'metadata.name!=abc' }, 'NOT (FALSE)'],
    ['A field is compared as a parameter, never as SQL text.', { fields: "user.username=x' OR 1\\=1" }, `username = "x' OR 1=1"`],
  ];
  it.each(cases)('%s', (_reason, selectors, want) => {
    expect(where(selectors)).toBe(want);
  });
});

describe('continue tokens', () => {
  it('carry the position of the last event shown, exactly.', () => {
    const position = { time: '2026-12-06T06:12:07.123456Z', id: 9007199254740993n };
    expect(decodeAuditContinue(encodeAuditContinue(position))).toEqual(position);
  });

  it.each([
    ['not base64 JSON', 'abc'],
    ['an object-store token', Buffer.from(JSON.stringify({ v: 'virtflow/1', rv: 1, start: 'x' })).toString('base64url')],
    ['a time PostgreSQL would refuse', Buffer.from(JSON.stringify({ v: 'virtflow-audit/1', time: '2026-02-30T00:00:00.000000Z', id: '1' })).toString('base64url')],
    ['an id that is no number', Buffer.from(JSON.stringify({ v: 'virtflow-audit/1', time: '2026-02-03T00:00:00.000000Z', id: '1;' })).toString('base64url')],
  ])('refuse %s with a 400.', (_what, token) => {
    expect(() => decodeAuditContinue(token)).toThrow(expect.objectContaining({ code: 400 }));
  });
});

describe('parseId', () => {
  it.each([
    ['1', 1n],
    ['9223372036854775807', 9223372036854775807n],
    ['9223372036854775808', undefined],
    ['0', undefined],
    ['01', undefined],
    ['-1', undefined],
    ['1e3', undefined],
  ])('reads %s as %s.', (text, want) => {
    expect(parseId(text)).toBe(want);
  });
});
