// errors.ts: the one error the typed client throws, with the server's stable code when it gave one.

export interface TaskError {
  index: number;
  /** The 1-based line of an uploaded file. */
  line?: number;
  message: string;
}

export interface GraphQLErrorShape {
  message: string;
  extensions?: Record<string, unknown>;
}

/** Codes of failures the server never saw; the others are the server's `extensions.code`. */
export const ClientErrorCode = {
  /** The server could not be reached (refused, unknown host, reset). */
  CONNECTION_FAILED: "CONNECTION_FAILED",
  /** An answer that is no GraphQL response (a proxy's page, a crash). */
  BAD_RESPONSE: "BAD_RESPONSE",
} as const;

export class BatchwireError extends Error {
  /** `extensions.code` (BAD_USER_INPUT, NOT_FOUND, UNAUTHENTICATED, …) or a ClientErrorCode. */
  readonly code: string;
  /** The HTTP status, when there was an HTTP answer. */
  readonly status: number | undefined;
  /** Every bad task of a refused submit (at most 1,000; see `taskErrorsTruncated`). */
  readonly taskErrors: TaskError[];
  readonly taskErrorsTruncated: boolean;
  /** The GraphQL errors as received. */
  readonly errors: GraphQLErrorShape[];

  constructor(message: string, options: { code: string; status?: number; errors?: GraphQLErrorShape[]; cause?: unknown }) {
    super(message, { cause: options.cause });
    this.name = "BatchwireError";
    this.code = options.code;
    this.status = options.status;
    this.errors = options.errors ?? [];
    const extensions = this.errors[0]?.extensions ?? {};
    this.taskErrors = Array.isArray(extensions.taskErrors) ? (extensions.taskErrors as TaskError[]) : [];
    this.taskErrorsTruncated = extensions.taskErrorsTruncated === true;
  }

  static fromGraphQL(errors: readonly GraphQLErrorShape[], status?: number): BatchwireError {
    const first = errors[0] ?? { message: "unknown GraphQL error" };
    const code = typeof first.extensions?.code === "string" ? first.extensions.code : "GRAPHQL_ERROR";
    return new BatchwireError(first.message, { code, status, errors: [...errors] });
  }
}

const NETWORK_REASONS: Record<string, string> = {
  ECONNREFUSED: "connection refused",
  ENOTFOUND: "host not found",
  ECONNRESET: "connection reset",
  ETIMEDOUT: "timed out",
  EHOSTUNREACH: "host unreachable",
};

/** fetch's TypeError ("fetch failed") with the reason it carries, named. */
export function connectionFailed(url: string, error: unknown): BatchwireError {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  const reason = (cause?.code && NETWORK_REASONS[cause.code]) ?? cause?.message ?? (error as Error).message;
  return new BatchwireError(`cannot reach ${url}: ${reason}`, { code: ClientErrorCode.CONNECTION_FAILED, cause: error });
}
