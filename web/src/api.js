// GraphQL over HTTP with typed errors: every failure becomes an ApiError carrying AppSync's errorType.

export class ApiError extends Error {
  constructor(message, errorType, status) {
    super(message);
    this.errorType = errorType || "Error";
    this.status = status || null;
  }

  get unauthorized() {
    return this.status === 401 || this.errorType === "UnauthorizedException" || this.errorType === "Unauthorized";
  }
}

export class GraphQLClient {
  /** @param {{url: string, authorization: () => string}} options */
  constructor(options) {
    this.url = options.url;
    this.authorization = options.authorization;
  }

  async request(query, variables = {}) {
    let reply;
    try {
      reply = await fetch(this.url, {
        method: "POST",
        headers: { "Content-Type": "application/json", Authorization: this.authorization() },
        body: JSON.stringify({ query, variables }),
      });
    } catch (error) {
      throw new ApiError(`the API is not reachable (${error.message})`, "NetworkError");
    }
    const body = await reply.json().catch(() => null);
    const errors = (body && body.errors) || [];
    if (errors.length) {
      const first = errors[0];
      throw new ApiError(first.message || "the request failed", first.errorType, reply.status);
    }
    if (!reply.ok || !body) throw new ApiError(`the API answered HTTP ${reply.status}`, "HttpError", reply.status);
    return body.data;
  }
}

const TITLES = {
  UnauthorizedException: "Signed out",
  Unauthorized: "Not allowed",
  ValidationError: "Invalid request",
  NotFound: "Not found",
  Conflict: "Conflict",
  BrokerRejected: "Rejected by the broker",
  BrokerNotConnected: "Broker not connected",
  RateLimited: "Slow down",
  NetworkError: "Offline",
};

/** A message a person can act on, for any error the API, the sign-in or the real-time connection raises. */
export function describeError(error) {
  const type = (error && error.errorType) || "Error";
  const message = (error && error.message) || String(error);
  if (type === "UnauthorizedException" || (error && error.status === 401)) {
    return {
      title: "Session expired",
      message: `Your sign-in is no longer valid (${message}). Sign in again.`,
      errorType: type,
    };
  }
  return { title: TITLES[type] || type, message, errorType: type };
}
