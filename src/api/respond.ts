// Writing answers: objects as JSON or YAML, failures as metav1.Status, warnings as headers.
import type { ServerResponse } from 'node:http';
import type { ApiError } from '../machinery/errors.js';
import { toYaml } from '../machinery/yaml.js';
import { classifyFailure } from './failures.js';

export function sendJson(res: ServerResponse, code: number, body: unknown, contentType = 'application/json'): void {
  sendRaw(res, code, JSON.stringify(body), contentType);
}

/**
 * Sends text already serialized. Handed over as a string, Node writes it together with the
 * headers in one chunk (a Buffer would go as a second one).
 */
export function sendRaw(res: ServerResponse, code: number, text: string, contentType: string): void {
  res.statusCode = code;
  res.setHeader('Content-Type', contentType);
  res.setHeader('Content-Length', Buffer.byteLength(text, 'utf8'));
  endWith(res, text);
}

/** Responses carrying header bytes over 0x7f (UTF-8 warnings, see addWarnings). */
const binaryHeaders = new WeakSet<ServerResponse>();

/**
 * Ends the response with `text`. Node writes headers and a string body as one chunk in the
 * body's encoding, which would encode header bytes over 0x7f a second time; a Buffer body
 * leaves the headers to be written as the bytes they are.
 */
function endWith(res: ServerResponse, text: string): void {
  if (binaryHeaders.has(res)) res.end(Buffer.from(text, 'utf8'));
  else res.end(text, 'utf8');
}

export function sendObject(res: ServerResponse, code: number, body: unknown, format: 'json' | 'yaml'): void {
  if (format === 'yaml') {
    const text = toYaml(body);
    res.statusCode = code;
    res.setHeader('Content-Type', 'application/yaml');
    endWith(res, text);
    return;
  }
  sendJson(res, code, body);
}

export function toApiError(err: unknown): ApiError {
  return classifyFailure(err);
}

export function sendError(res: ServerResponse, err: unknown): ApiError {
  const apiError = toApiError(err);
  if (res.headersSent) {
    res.end();
    return apiError;
  }
  if (apiError.code === 401) res.setHeader('WWW-Authenticate', 'Bearer realm="virtflow"');
  // As kube-apiserver's responsewriters do for any Status that asks the client to come back.
  const retryAfter = apiError.details?.retryAfterSeconds;
  if (retryAfter !== undefined && retryAfter > 0) res.setHeader('Retry-After', String(retryAfter));
  sendJson(res, apiError.code, apiError.toStatus());
  return apiError;
}

/** kube-apiserver's warning recorder limits: total runes, then runes per warning once over. */
const WARNING_TOTAL_RUNES = 4 * 1024;
const WARNING_ITEM_RUNES = 256;

/**
 * Warnings go back as RFC 7234 Warning headers, encoded as kube-apiserver's warning recorder
 * and net.NewWarningHeader encode them: `299 - "text"` with `"` and `\` escaped, duplicates
 * dropped, a text with control characters (or not valid UTF-8) left out, and every text cut
 * to 256 characters once all of them pass 4096. The text goes on the wire as UTF-8, which
 * Node writes only from a string of bytes. Never throws: the write it reports on is done.
 */
export function addWarnings(res: ServerResponse, warnings: string[]): void {
  if (warnings.length === 0 || res.headersSent) return;
  const texts = [...new Set(warnings)].filter((w) => w.length > 0 && !hasControlOrLoneSurrogate(w));
  let headers = texts.map(warningHeader);
  if (texts.reduce((n, w) => n + runeCount(w), 0) > WARNING_TOTAL_RUNES) {
    // Past the total, every warning is cut short, and those after the total are dropped.
    headers = [];
    let written = 0;
    for (const text of texts) {
      if (written >= WARNING_TOTAL_RUNES) break;
      const cut = firstRunes(text, WARNING_ITEM_RUNES);
      written += runeCount(cut);
      headers.push(warningHeader(cut));
    }
  }
  if (headers.length === 0) return;
  res.setHeader('Warning', headers);
  if (headers.some((h) => /[^\x00-\x7f]/.test(h))) binaryHeaders.add(res);
}

export function warningHeader(text: string): string {
  const quoted = `"${text.replace(/["\\]/g, (c) => `\\${c}`)}"`;
  return Buffer.from(`299 - ${quoted}`, 'utf8').toString('latin1');
}

function hasControlOrLoneSurrogate(text: string): boolean {
  // unicode.IsControl: C0, DEL and C1.
  return /[\u0000-\u001f\u007f-\u009f]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(text);
}

function runeCount(text: string): number {
  let n = 0;
  for (const _ of text) n++;
  return n;
}

function firstRunes(text: string, count: number): string {
  let out = '';
  let n = 0;
  for (const c of text) {
    if (n++ >= count) break;
    out += c;
  }
  return out;
}
