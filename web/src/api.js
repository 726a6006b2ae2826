// GraphQL over HTTP through AWS Amplify v6 with typed errors: every failure becomes an ApiError carrying AppSync's
// errorType.
import { generateClient } from "aws-amplify/api";
import { useAuthorization } from "./auth.js";

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

/** AppSync's errorType of an error Amplify reports: GraphQL errors keep it; a refused connection carries it in
 * its message as AppSync's JSON ('Connection failed: {"errors":[{"errorType":…}]}'). */
export function errorTypeOf(error) {
  if (!error) return null;
  if (error.errorType) return error.errorType;
  const text = String(error.message || "");
  const match = text.match(/"errorType"\s*:\s*"([^"]+)"/) || text.match(/^Connection failed: (\w+)$/);
  return match ? match[1] : null;
}

/** What a non-2xx answer said: Amplify keeps the body of an HTTP error (AppSync's `{"errors": [...]}` on a 401)
 * on the error it wraps, as `response`. */
function httpAnswer(original) {
  const response = original && original.response;
  if (!response || !response.statusCode) return null;
  let body = null;
  try {
    body = JSON.parse(response.body || "null");
  } catch {
    body = null;
  }
  const first = (body && body.errors && body.errors[0]) || {};
  return { status: response.statusCode, errorType: first.errorType || null, message: first.message || null };
}

/** The ApiError for whatever Amplify's client threw or returned in `errors`. */
export function toApiError(error) {
  if (error instanceof ApiError) return error;
  const errors = (error && error.errors) || [];
  const first = errors[0] || error || {};
  const answer = httpAnswer(first.originalError);
  if (answer) {
    const type = answer.errorType || (answer.status === 401 ? "UnauthorizedException" : "HttpError");
    return new ApiError(answer.message || `the API answered HTTP ${answer.status}`, type, answer.status);
  }
  let type = errorTypeOf(first);
  let message = first.message || "the request failed";
  const status = null;
  // Amplify's own errors before anything is sent, or when the request never got an answer
  const name = (first.originalError && first.originalError.name) || first.name || (error && error.name) || "";
  if (!type && /NoSignedUser|NoValidAuthTokens|NoAuthToken/.test(`${name} ${message}`)) {
    type = "UnauthorizedException";
    message = "no signed-in user: the session has expired or was never started";
  } else if (!type && /Network error|Failed to fetch|NetworkError/i.test(`${name} ${message}`)) {
    type = "NetworkError";
    message = `the API is not reachable (${message})`;
  } else if (!type) {
    const unauthorized = /Unauthorized|401/.test(message);
    type = unauthorized ? "UnauthorizedException" : "Error";
  }
  return new ApiError(message, type, type === "UnauthorizedException" ? 401 : status);
}

export class GraphQLClient {
  /** GraphQL over HTTP through Amplify's client (aws-amplify/api, user-pool mode); `authorization()` is the
   * token it sends (the dashboard's session), `url` is the endpoint Amplify was configured with.
   * @param {{url: string, authorization: () => string}} options */
  constructor(options) {
    this.url = options.url;
    this.authorization = options.authorization;
    useAuthorization(options.authorization);
    this.client = generateClient();
  }

  async request(query, variables = {}) {
    let result;
    try {
      result = await this.client.graphql({ query, variables });
    } catch (error) {
      throw toApiError(error);
    }
    if (result.errors && result.errors.length) throw toApiError(result);
    return result.data;
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
  InsufficientMargin: "Not enough margin",
  NotSupported: "Not supported by this broker",
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
