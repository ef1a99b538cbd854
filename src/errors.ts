// errors.ts: every client-facing error code and the GraphQLError that carries it.
import { GraphQLError, type GraphQLErrorOptions } from "graphql";

export const ErrorCode = {
  BAD_USER_INPUT: "BAD_USER_INPUT",
  BATCH_TOO_LARGE: "BATCH_TOO_LARGE",
  IDEMPOTENCY_CONFLICT: "IDEMPOTENCY_CONFLICT",
  NOT_FOUND: "NOT_FOUND",
  UNAUTHENTICATED: "UNAUTHENTICATED",
  FORBIDDEN: "FORBIDDEN",
  TOO_MANY_SUBSCRIPTIONS: "TOO_MANY_SUBSCRIPTIONS",
  PAYLOAD_TOO_LARGE: "PAYLOAD_TOO_LARGE",
  /** HTTP framing Node's parser refuses (HTTP 400). */
  BAD_REQUEST: "BAD_REQUEST",
  SERVICE_UNAVAILABLE: "SERVICE_UNAVAILABLE",
  /** Production without WEBHOOK_SECRET_KEY: webhook secrets cannot be sealed. */
  WEBHOOKS_NOT_CONFIGURED: "WEBHOOKS_NOT_CONFIGURED",
  /** A batchUpdates subscriber read its events too slowly; it subscribes again and re-reads. */
  SUBSCRIBER_TOO_SLOW: "SUBSCRIBER_TOO_SLOW",
} as const;

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export interface TaskErrorDetail {
  index: number;
  /** The task's 1-based line, when it came from an uploaded file. */
  line?: number;
  message: string;
}

export function clientError(code: ErrorCode, message: string, extensions: Record<string, unknown> = {}): GraphQLError {
  return new GraphQLError(message, { extensions: { code, ...extensions } });
}

/** At most this many task errors are listed; `taskErrorsTruncated` says when more were found. */
export const MAX_TASK_ERRORS = 1_000;

export function invalidTasks(errors: TaskErrorDetail[], total: number): GraphQLError {
  const first = errors[0];
  const where = first && (first.line === undefined ? `task ${first.index}` : `line ${first.line} (task ${first.index})`);
  const summary = first ? `${where}: ${first.message}` : "invalid tasks";
  return clientError(ErrorCode.BAD_USER_INPUT, `${total} invalid task(s); first: ${summary}`, {
    taskErrors: errors.slice(0, MAX_TASK_ERRORS),
    taskErrorsTruncated: total > MAX_TASK_ERRORS,
  });
}

export function notFound(what: string, id: string): GraphQLError {
  return clientError(ErrorCode.NOT_FOUND, `${what} ${id} not found`);
}

/** A missing, malformed, unknown or revoked API key; HTTP answers it with 401. */
export function unauthenticated(message: string): GraphQLError {
  return clientError(ErrorCode.UNAUTHENTICATED, message, {
    http: { status: 401, headers: { "www-authenticate": 'Bearer realm="batchwire"' } },
  });
}

export function tooManySubscriptions(message: string): GraphQLError {
  return clientError(ErrorCode.TOO_MANY_SUBSCRIPTIONS, message);
}

/** Seconds a client is asked to wait (`Retry-After`) while the database cannot be reached. */
export const RETRY_AFTER_SECONDS = 5;

/** The database cannot be reached right now: HTTP 503 with Retry-After; nothing was done. */
export function serviceUnavailable(options: Omit<GraphQLErrorOptions, "extensions"> = {}): GraphQLError {
  return new GraphQLError("the service cannot reach its database right now; try again shortly", {
    ...options,
    extensions: {
      code: ErrorCode.SERVICE_UNAVAILABLE,
      http: { status: 503, headers: { "retry-after": String(RETRY_AFTER_SECONDS) } },
    },
  });
}
