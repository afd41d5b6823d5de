// What the client hears of a failure that is not one of ours: a database that cannot be reached
// is 503 ServiceUnavailable (try again), anything else a 500 that says nothing of the inside.
// The raw message (a connection string's host, a SQL error, a stack) goes to the log only.
import pino from 'pino';
import { ApiError, errors } from '../machinery/errors.js';

export type FailureLog = (err: unknown, what: string) => void;

let logger: pino.Logger | undefined;

const defaultLog: FailureLog = (err, what) => {
  logger ??= pino({ name: 'virtflow-api', level: process.env.VIRTFLOW_LOG_LEVEL ?? 'warn' }, pino.destination(2));
  logger.error({ err }, what);
};

let log: FailureLog = defaultLog;

/** Where internal failures are logged (tests capture them; the default is stderr as JSON). */
export function setFailureLog(fn: FailureLog | undefined): void {
  log = fn ?? defaultLog;
}

// Node's codes for a connection that could not be made or broke.
const CONNECTION_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);
// PostgreSQL's: connection exceptions (class 08), shutting down or starting up, too many connections.
const SQLSTATES = /^(08...|57P0[1-3]|53300)$/;
// node-postgres, its pool, and knex (MikroORM's pool) say so only in words.
const MESSAGES = /Connection terminated|connection timeout|timeout exceeded when trying to connect|Timeout acquiring a connection|Client has encountered a connection error|Connection ended unexpectedly|the database system is (starting up|shutting down)/i;

/** Whether `err` says the database could not be reached (as opposed to refusing a statement). */
export function isDatabaseUnavailable(err: unknown, depth = 0): boolean {
  if (!err || typeof err !== 'object' || depth > 3) return false;
  const e = err as { code?: unknown; syscall?: unknown; message?: unknown; errors?: unknown; cause?: unknown };
  if (typeof e.code === 'string' && (CONNECTION_CODES.has(e.code) || SQLSTATES.test(e.code))) return true;
  // A Unix socket that is not there (yet).
  if (e.code === 'ENOENT' && e.syscall === 'connect') return true;
  if (typeof e.message === 'string' && MESSAGES.test(e.message)) return true;
  // A connection to "localhost" tries each address and fails with all of them.
  if (Array.isArray(e.errors) && e.errors.some((inner) => isDatabaseUnavailable(inner, depth + 1))) return true;
  return isDatabaseUnavailable(e.cause, depth + 1);
}

export const DATABASE_UNAVAILABLE = 'the database is unavailable; please try again later';

/** The ApiError to answer for `err`; anything that is not one is logged here. */
export function classifyFailure(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  if (isDatabaseUnavailable(err)) {
    log(err, 'database unavailable');
    const unavailable = errors.unavailable(DATABASE_UNAVAILABLE);
    return new ApiError(unavailable.code, unavailable.reason, unavailable.message, { retryAfterSeconds: 1 });
  }
  log(err, 'internal error');
  return errors.internal('an internal error occurred; the server log has the details');
}
