/**
 * Which driver errors mean "the database is not reachable right now" (retry later) rather
 * than "this operation is wrong". `pg` gives no code for a connection that ends under a
 * client (only a message), so both codes and those messages are matched.
 */

/** Socket and DNS errors of Node: the network or the server's process is gone or not there yet. */
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ECONNABORTED', 'EPIPE', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ENETDOWN']);

/**
 * SQLSTATEs of a server that is going away, starting, overloaded or that gave up waiting:
 * 57P01 admin_shutdown, 57P02 crash_shutdown, 57P03 cannot_connect_now, 57014 query_canceled
 * (statement_timeout), 55P03 lock_not_available (lock_timeout), class 08 (connection
 * exception) and class 53 (insufficient resources: too many connections, out of memory,
 * disk full).
 */
const SQLSTATES = new Set(['57P01', '57P02', '57P03', '57014', '55P03']);

/** Messages `pg` and `pg-pool` use for connections lost or timed out (they have no code). */
const MESSAGES = [
  /^Connection terminated/, // "... unexpectedly", "... due to connection timeout", "Connection terminated"
  /not queryable/, // "Client has encountered a connection error and is not queryable", "Client was closed and is not queryable"
  /^timeout exceeded when trying to connect$/, // pg-pool: no connection within connectionTimeoutMillis
  /^Query read timeout$/, // pg: no answer within query_timeout
  /^timeout expired$/, // pg: the connect timer destroyed the socket
];

/** Whether `error` (from `pg`) is a transient connection failure: the operation may be retried as it is. */
export function isTransientPgError(error: unknown): boolean {
  if (error === null || typeof error !== 'object') return false;
  const e = error as { code?: unknown; message?: unknown; errors?: unknown };
  const code = typeof e.code === 'string' ? e.code : '';
  if (NETWORK_CODES.has(code) || SQLSTATES.has(code) || code.startsWith('08') || code.startsWith('53')) return true;
  const message = typeof e.message === 'string' ? e.message : '';
  if (MESSAGES.some((m) => m.test(message))) return true;
  // Node's AggregateError: every address of a host refused (IPv4 and IPv6 of localhost).
  return Array.isArray(e.errors) && e.errors.length > 0 && e.errors.every((inner) => isTransientPgError(inner));
}
