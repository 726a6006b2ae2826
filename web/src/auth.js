// Sign-in behind one small interface, chosen by config:
//   { type: "local", usersUrl }                 the local stack's /local/users (a Cognito-format id token)
//   { type: "cognito", region, clientId, endpoint? }  a Cognito user pool (USER_PASSWORD_AUTH, no SDK needed)
// Both resolve to a session { username, sub, token, expiresAt, refreshToken? } whose `token` goes into the
// Authorization header of GraphQL requests and of the AppSync real-time connection.

export class SignInError extends Error {
  constructor(message, errorType = "SignInError") {
    super(message);
    this.errorType = errorType;
  }
}

/** The claims of a JWT (not verified here: the API verifies every request). */
export function jwtClaims(token) {
  const part = String(token).split(".")[1];
  if (!part) throw new SignInError("the sign-in service returned something that is not a token");
  const padded = part.replace(/-/g, "+").replace(/_/g, "/") + "=".repeat((4 - (part.length % 4)) % 4);
  const text = typeof atob === "function" ? atob(padded) : Buffer.from(padded, "base64").toString("binary");
  return JSON.parse(decodeURIComponent(escape(text)));
}

function sessionFrom(idToken, refreshToken) {
  const claims = jwtClaims(idToken);
  return {
    username: claims["cognito:username"] || claims.username || claims.sub,
    sub: claims.sub,
    token: idToken,
    expiresAt: claims.exp ? claims.exp * 1000 : null,
    refreshToken: refreshToken || null,
  };
}

export class LocalAuth {
  constructor(config, base) {
    this.kind = "local";
    this.usersUrl = new URL(config.usersUrl || "/local/users", base).href;
    this.needsPassword = false;
  }

  async signIn({ username }) {
    let reply;
    try {
      reply = await fetch(this.usersUrl, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ username }),
      });
    } catch (error) {
      throw new SignInError(`the local stack is not reachable (${error.message})`, "NetworkError");
    }
    const body = await reply.json().catch(() => ({}));
    if (!reply.ok) throw new SignInError(body.error || `sign-in failed (HTTP ${reply.status})`);
    return sessionFrom(body.token);
  }

  async refresh(session) {
    return this.signIn({ username: session.username });
  }
}

export class CognitoAuth {
  constructor(config) {
    this.kind = "cognito";
    this.clientId = config.clientId;
    this.endpoint = config.endpoint || `https://cognito-idp.${config.region}.amazonaws.com/`;
    this.needsPassword = true;
  }

  async call(target, body) {
    let reply;
    try {
      reply = await fetch(this.endpoint, {
        method: "POST",
        headers: {
          "Content-Type": "application/x-amz-json-1.1",
          "X-Amz-Target": `AWSCognitoIdentityProviderService.${target}`,
        },
        body: JSON.stringify(body),
      });
    } catch (error) {
      throw new SignInError(`Cognito is not reachable (${error.message})`, "NetworkError");
    }
    const result = await reply.json().catch(() => ({}));
    if (!reply.ok) {
      const type = String(result.__type || "SignInError").split("#").pop();
      throw new SignInError(result.message || result.Message || `sign-in failed (HTTP ${reply.status})`, type);
    }
    if (result.ChallengeName) {
      throw new SignInError(`Cognito asks for ${result.ChallengeName}; complete it in the hosted UI first`, "Challenge");
    }
    return result.AuthenticationResult;
  }

  async signIn({ username, password }) {
    const result = await this.call("InitiateAuth", {
      AuthFlow: "USER_PASSWORD_AUTH",
      ClientId: this.clientId,
      AuthParameters: { USERNAME: username, PASSWORD: password },
    });
    return sessionFrom(result.IdToken, result.RefreshToken);
  }

  async refresh(session) {
    if (!session.refreshToken) throw new SignInError("the session has expired; sign in again", "SessionExpired");
    const result = await this.call("InitiateAuth", {
      AuthFlow: "REFRESH_TOKEN_AUTH",
      ClientId: this.clientId,
      AuthParameters: { REFRESH_TOKEN: session.refreshToken },
    });
    return sessionFrom(result.IdToken, session.refreshToken);
  }
}

/** The sign-in implementation the config names. */
export function createAuth(config, base) {
  if (config.type === "cognito") return new CognitoAuth(config);
  if (config.type === "local") return new LocalAuth(config, base);
  throw new SignInError(`unknown auth type ${JSON.stringify(config.type)} in the dashboard config`);
}
