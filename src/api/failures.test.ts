import { afterEach, describe, expect, it } from 'vitest';
import { ApiError } from '../machinery/errors.js';
import { classifyFailure, setFailureLog } from './failures.js';

describe('classifyFailure', () => {
  const logged: unknown[] = [];
  setFailureLog((err) => logged.push(err));
  afterEach(() => {
    logged.length = 0;
  });

  it('answers a database that cannot be reached with 503 and Retry-After, saying nothing of the driver', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 10.1.2.3:5432'), { code: 'ECONNREFUSED', syscall: 'connect' });
    const cases: [string, unknown][] = [
      ['a refused connection', refused],
      ['every address of a name refused', Object.assign(new AggregateError([refused], ''), { code: undefined })],
      ['a server shutting down', Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' })],
      ['a connection that broke', new Error('Connection terminated unexpectedly')],
      ['a pool that cannot connect', new Error('Knex: Timeout acquiring a connection. The pool is probably full.')],
    ];
    for (const [what, err] of cases) {
      const answer = classifyFailure(err);
      expect(answer.code, what).toBe(503);
      expect(answer.reason, what).toBe('ServiceUnavailable');
      expect(answer.details?.retryAfterSeconds, what).toBe(1);
      expect(answer.message, what).not.toMatch(/10\.1\.2\.3|ECONN|Knex|terminat/);
    }
    expect(logged).toHaveLength(cases.length);
  });

  it('answers any other failure with a 500 that echoes nothing, and logs the original', () => {
    const err = Object.assign(new Error('relation "api_tokens" does not exist at character 27'), { code: '42P01' });
    const answer = classifyFailure(err);
    expect(answer.code).toBe(500);
    expect(answer.message).toBe('an internal error occurred; the server log has the details');
    expect(logged).toEqual([err]);
  });

  it('passes an ApiError through unlogged', () => {
    const refusal = new ApiError(409, 'Conflict', 'taken');
    expect(classifyFailure(refusal)).toBe(refusal);
    expect(logged).toEqual([]);
  });
});
