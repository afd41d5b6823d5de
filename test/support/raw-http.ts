// Raw HTTP/1.1 over TLS to a test server, for what a well-behaved client library will not send:
// oversized request lines and headers, requests that stop halfway, malformed framing.
import tls from 'node:tls';

export interface RawExchange {
  /** Writes more of the request. */
  write(text: string | Buffer): void;
  /** Everything the server sent so far. */
  received(): string;
  /** The status code of the first response, once its status line arrived. */
  status(): number | undefined;
  /** Resolves when the server closed the connection (or `timeoutMs` passed: then rejects). */
  closed(timeoutMs?: number): Promise<string>;
  /**
   * Resolves with the first response once it has arrived whole (by its Content-Length) or the
   * connection closed; rejects after `timeoutMs`.
   */
  response(timeoutMs?: number): Promise<string>;
  destroy(): void;
}

/** Opens a TLS connection to `url` and sends `head` (and nothing else yet). */
export async function rawExchange(url: string, caCert: string, head: string | Buffer): Promise<RawExchange> {
  const { hostname, port } = new URL(url);
  const socket = tls.connect({ host: hostname, port: Number(port), ca: caCert, servername: 'localhost' });
  await new Promise<void>((resolve, reject) => {
    socket.once('secureConnect', resolve);
    socket.once('error', reject);
  });
  let data = '';
  let ended = false;
  const endWaiters: (() => void)[] = [];
  const dataWaiters = new Set<() => void>();
  socket.on('data', (chunk: Buffer) => {
    data += chunk.toString('latin1');
    for (const w of dataWaiters) w();
  });
  socket.on('error', () => {});
  socket.on('close', () => {
    ended = true;
    for (const w of endWaiters) w();
    for (const w of dataWaiters) w();
  });
  const complete = () => {
    if (ended) return true;
    const split = data.indexOf('\r\n\r\n');
    if (split < 0) return false;
    const length = /\r\ncontent-length: *(\d+)/i.exec(data.slice(0, split))?.[1];
    return length !== undefined && data.length - split - 4 >= Number(length);
  };
  socket.write(head);
  return {
    write: (text) => socket.write(text),
    received: () => data,
    status: () => {
      const m = /^HTTP\/1\.1 (\d{3})/.exec(data);
      return m ? Number(m[1]) : undefined;
    },
    closed: (timeoutMs = 15_000) =>
      ended
        ? Promise.resolve(data)
        : new Promise((resolve, reject) => {
            const timer = setTimeout(() => reject(new Error(`the server kept the connection open for ${timeoutMs} ms; got ${JSON.stringify(data.slice(0, 200))}`)), timeoutMs);
            endWaiters.push(() => {
              clearTimeout(timer);
              resolve(data);
            });
          }),
    response: (timeoutMs = 15_000) =>
      complete()
        ? Promise.resolve(data)
        : new Promise((resolve, reject) => {
            const check = () => {
              if (!complete()) return;
              dataWaiters.delete(check);
              clearTimeout(timer);
              resolve(data);
            };
            const timer = setTimeout(() => {
              dataWaiters.delete(check);
              reject(new Error(`no whole response in ${timeoutMs} ms; got ${JSON.stringify(data.slice(0, 200))}`));
            }, timeoutMs);
            dataWaiters.add(check);
          }),
    destroy: () => socket.destroy(),
  };
}

/** The status code and body of a raw response text. */
export function parseRawResponse(text: string): { status: number; headers: string; body: string } {
  const split = text.indexOf('\r\n\r\n');
  const headers = split < 0 ? text : text.slice(0, split);
  const m = /^HTTP\/1\.1 (\d{3})/.exec(headers);
  return { status: m ? Number(m[1]) : 0, headers, body: split < 0 ? '' : text.slice(split + 4) };
}
