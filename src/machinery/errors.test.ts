import { describe, expect, it } from 'vitest';
import { ApiError, errors } from './errors.js';

describe('ApiError', () => {
  it('round-trips through the Status on the wire: the causes go out as reason and come back as type', () => {
    const sent = errors.invalid('Tenant', 'virtflow.io', 'acme', [
      { type: 'FieldValueRequired', field: 'spec.namespace', message: 'Required value' },
    ]);
    const wire = JSON.parse(JSON.stringify(sent.toStatus()));
    expect(wire.details.causes[0]).toEqual({ reason: 'FieldValueRequired', field: 'spec.namespace', message: 'Required value' });
    const received = ApiError.fromStatus(422, wire, 'fallback');
    expect(received).toBeInstanceOf(ApiError);
    expect([received.code, received.reason, received.message]).toEqual([422, 'Invalid', sent.message]);
    expect(received.details?.causes).toEqual(sent.details?.causes);
    expect(received.toStatus()).toEqual(sent.toStatus());
  });

  it('takes the fallback text when the server sent no Status, and keeps a reason it does not know', () => {
    const bare = ApiError.fromStatus(502, undefined, 'GET /x: HTTP 502 <html>');
    expect([bare.code, bare.reason, bare.message, bare.details]).toEqual([502, '', 'GET /x: HTTP 502 <html>', undefined]);
    const unknown = ApiError.fromStatus(418, { reason: 'Teapot', message: 'short and stout' }, 'f');
    expect([unknown.reason, unknown.message]).toEqual(['Teapot', 'short and stout']);
  });
});
