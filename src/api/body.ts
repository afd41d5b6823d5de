// Reading request bodies: bounded in size, JSON or YAML, never trusted to be well formed.
import type { IncomingMessage } from 'node:http';
import { errors } from '../machinery/errors.js';
import { decodeYaml } from './yaml-body.js';
import { decodeKubernetesProtobuf, isKubernetesProtobuf, ProtobufDecodeError } from '../protobuf/decode.js';

export const MAX_BODY_BYTES = 3 * 1024 * 1024;

export function readBody(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<Buffer> {
  const length = req.headers['content-length'];
  const declared = Number(length ?? 0);
  if (declared > limit) {
    req.resume();
    return Promise.reject(errors.tooLarge(`request entity too large: limit is ${limit} bytes`));
  }
  // A body that came with its headers is buffered whole by the time a handler runs (the
  // message may not be marked complete yet), so it is taken as it is: this runs for every
  // write request.
  if (!req.readableEnded && (req.complete || (length !== undefined && req.readableLength === declared))) {
    const whole = (req.read() as Buffer | null) ?? Buffer.alloc(0);
    return whole.length > limit
      ? Promise.reject(errors.tooLarge(`request entity too large: limit is ${limit} bytes`))
      : Promise.resolve(whole);
  }
  // Plain stream events rather than an async iterator, for the same reason.
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const fail = (err: unknown) => {
      if (settled) return;
      settled = true;
      reject(err);
    };
    req.on('data', (chunk: Buffer) => {
      if (settled) return;
      size += chunk.length;
      if (size > limit) {
        fail(errors.tooLarge(`request entity too large: limit is ${limit} bytes`));
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (settled) return;
      settled = true;
      resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
    });
    req.on('error', fail);
    req.on('close', () => {
      if (!settled) fail(errors.badRequest('the client closed the connection before the request body was complete'));
    });
  });
}

export function mediaType(req: IncomingMessage): string {
  return (req.headers['content-type'] ?? 'application/json').split(';')[0]!.trim().toLowerCase();
}

/**
 * How deep a document may nest. Deeper ones are refused before any recursive walk over them,
 * and what is stored must be servable in every format: the YAML serializer runs out of stack
 * at about 650 levels of maps on Node's default stack (less when called deep), so an object
 * of 999 levels was stored and then every YAML read of it answered 500. A hundred levels is
 * far beyond any real kind and leaves the serializers (JSON, YAML, Table) a wide margin, also
 * for the field ownership that server-side apply records beside the object, a few levels
 * deeper still.
 */
export const MAX_DOCUMENT_DEPTH = 100;

/**
 * Whether a decoded document nests deeper than `max`. The walk recurses, but never more than
 * `max` levels, so a hostile document cannot exhaust the stack; it allocates nothing, since
 * every write runs it.
 */
export function exceedsDepth(value: unknown, max: number, depth = 1): boolean {
  if (value === null || typeof value !== 'object') return false;
  if (depth > max) return true;
  if (Array.isArray(value)) {
    for (const child of value) if (exceedsDepth(child, max, depth + 1)) return true;
    return false;
  }
  for (const key in value) {
    if (exceedsDepth((value as Record<string, unknown>)[key], max, depth + 1)) return true;
  }
  return false;
}

/** Decodes a JSON or YAML document; a malformed one is a 400 that says where it broke. */
export function decodeDocument(raw: Buffer, type: string): unknown {
  const value = decodeText(raw, type);
  if (exceedsDepth(value, MAX_DOCUMENT_DEPTH)) {
    throw errors.badRequest(`the request body is nested more than ${MAX_DOCUMENT_DEPTH} levels deep`);
  }
  return value;
}

/** Whether the text is empty or only whitespace, looked at without copying it (trim would). */
function isBlank(text: string): boolean {
  return !/\S/.test(text);
}

function decodeText(raw: Buffer, type: string): unknown {
  if (isKubernetesProtobuf(type)) {
    try {
      return decodeKubernetesProtobuf(raw);
    } catch (err) {
      if (err instanceof ProtobufDecodeError) throw err.code === 415 ? errors.unsupportedMediaType(err.message) : errors.badRequest(err.message);
      throw err;
    }
  }
  const text = raw.toString('utf8');
  if (isBlank(text)) throw errors.badRequest('the request body is empty: an object was expected');
  if (type.includes('yaml')) return decodeYaml(text, MAX_DOCUMENT_DEPTH);
  try {
    return JSON.parse(text);
  } catch (err) {
    throw errors.badRequest(`the request body is not valid JSON: ${(err as Error).message}`);
  }
}
