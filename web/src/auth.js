// Sign-in through AWS Amplify v6 (aws-amplify/auth) against a Cognito user pool, chosen by config alone:
//   { graphqlUrl, region, auth: { userPoolId, userPoolClientId, userPoolEndpoint?, authFlowType?, localUsersUrl? } }
// On AWS `userPoolEndpoint` is left out (Amplify derives cognito-idp.<region>.amazonaws.com) and Amplify's default
// USER_SRP_AUTH is used. The local stack points `userPoolEndpoint` at its Cognito (moto) and asks for
// USER_PASSWORD_AUTH (moto's SRP accepts any password); its `localUsersUrl` creates the user first and hands
// back the password, so any user name signs in there.
//
// A session is { username, sub, token, idToken, expiresAt }: `token` is the Cognito access token, which Amplify's
// user-pool mode sends as the Authorization of GraphQL requests and of the AppSync real-time connection.
import { Amplify } from "aws-amplify";
import { decodeJWT, signIn as amplifySignIn, signOut as amplifySignOut } from "aws-amplify/auth";
import { cognitoUserPoolsTokenProvider } from "aws-amplify/auth/cognito";
import { sessionStorage } from "aws-amplify/utils";

export class SignInError extends Error {
  constructor(message, errorType = "SignInError") {
    super(message);
    this.errorType = errorType;
  }
}

/** The claims of a JWT (not verified here: the API verifies every request). */
export function jwtClaims(token) {
  try {
    return decodeJWT(String(token)).payload;
  } catch {
    throw new SignInError("the sign-in service returned something that is not a token");
  }
}

// The token the dashboard currently sends (its session's, which the page keeps and renews). Amplify asks its
// token provider for every request and every real-time connection; before a session exists (during sign-in)
// the provider is Amplify's own Cognito token store, where signIn puts the tokens.
let currentAuthorization = null;

/** Make `authorization()` the token Amplify sends (GraphQLClient and the real-time client call this). */
export function useAuthorization(authorization) {
  currentAuthorization = authorization || null;
}

const tokenProvider = {
  async getTokens(options) {
    const token = currentAuthorization && currentAuthorization();
    if (token) {
      const jwt = decodeJWT(token);
      return { accessToken: jwt, idToken: jwt };
    }
    return cognitoUserPoolsTokenProvider.getTokens(options);
  },
};

let configured = null;

/** Amplify.configure from the dashboard config (URLs relative to `base`, the page). Returns Amplify's config. */
export function configureAmplify(config, base) {
  const auth = (config && config.auth) || {};
  if (!config || !config.graphqlUrl) throw new SignInError("the dashboard config names no graphqlUrl", "ConfigError");
  if (!auth.userPoolId || !auth.userPoolClientId) {
    throw new SignInError("the dashboard config names no Cognito userPoolId / userPoolClientId", "ConfigError");
  }
  const cognito = { userPoolId: auth.userPoolId, userPoolClientId: auth.userPoolClientId };
  if (auth.userPoolEndpoint) cognito.userPoolEndpoint = new URL(auth.userPoolEndpoint, base).href;
  const resources = {
    API: {
      GraphQL: {
        endpoint: new URL(config.graphqlUrl, base).href,
        region: config.region || auth.region || "ap-south-1",
        defaultAuthMode: "userPool",
      },
    },
    Auth: { Cognito: cognito },
  };
  // Amplify's own token store, kept for the browser tab only (as the dashboard's session is).
  cognitoUserPoolsTokenProvider.setAuthConfig(resources.Auth);
  cognitoUserPoolsTokenProvider.setKeyValueStorage(sessionStorage);
  Amplify.configure(resources, { Auth: { tokenProvider } });
  configured = resources;
  return resources;
}

function sessionFrom(tokens) {
  if (!tokens || !tokens.accessToken) throw new SignInError("Cognito returned no tokens", "SignInError");
  const claims = tokens.accessToken.payload;
  const id = tokens.idToken ? tokens.idToken.payload : {};
  return {
    username: id["cognito:username"] || claims.username || claims.sub,
    sub: claims.sub,
    token: tokens.accessToken.toString(),
    idToken: tokens.idToken ? tokens.idToken.toString() : null,
    expiresAt: claims.exp ? claims.exp * 1000 : null,
  };
}

function signInError(error) {
  if (error instanceof SignInError) return error;
  const type = (error && error.name) || "SignInError";
  if (type === "NetworkError" || /fetch|network/i.test(String(error && error.message))) {
    return new SignInError(`Cognito is not reachable (${error.message})`, "NetworkError");
  }
  return new SignInError((error && error.message) || String(error), type);
}

export class AmplifyAuth {
  constructor(config, base) {
    const auth = config.auth || {};
    this.usersUrl = auth.localUsersUrl ? new URL(auth.localUsersUrl, base).href : null;
    this.kind = this.usersUrl ? "local" : "cognito";
    this.needsPassword = !this.usersUrl;
    this.authFlowType = auth.authFlowType || "USER_SRP_AUTH";
  }

  /** The local stack only: create (or find) the user and their paper account; returns the password. */
  async localPassword(username) {
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
    if (!reply.ok || !body.password) throw new SignInError(body.error || `sign-in failed (HTTP ${reply.status})`);
    return body.password;
  }

  async signIn({ username, password }) {
    if (!configured) throw new SignInError("Amplify is not configured", "ConfigError");
    const secret = this.usersUrl ? await this.localPassword(username) : password;
    useAuthorization(null);
    // Amplify refuses a second signIn while a user is signed in: end the previous one in this tab first.
    await amplifySignOut().catch(() => {});
    let result;
    try {
      result = await amplifySignIn({ username, password: secret, options: { authFlowType: this.authFlowType } });
    } catch (error) {
      throw signInError(error);
    }
    if (!result.isSignedIn) {
      const step = (result.nextStep && result.nextStep.signInStep) || "another step";
      throw new SignInError(`Cognito asks for ${step}; complete it in the hosted UI first`, "Challenge");
    }
    return sessionFrom(await cognitoUserPoolsTokenProvider.getTokens());
  }

  /** A fresh session: Amplify refreshes the tokens with its refresh token (REFRESH_TOKEN_AUTH at the pool). */
  async refresh(session) {
    let tokens = null;
    try {
      tokens = await cognitoUserPoolsTokenProvider.getTokens({ forceRefresh: true });
    } catch {
      tokens = null; // no refresh token in Amplify's store, or the pool refused it
    }
    if (tokens && tokens.accessToken && tokens.accessToken.payload.sub === session.sub) return sessionFrom(tokens);
    // No Amplify session for this user in this tab (e.g. the page's session came from elsewhere): locally
    // signing in again is free; on AWS the user signs in again.
    if (this.usersUrl) return this.signIn({ username: session.username });
    throw new SignInError("the session has expired; sign in again", "SessionExpired");
  }

  async signOut() {
    useAuthorization(null);
    await amplifySignOut().catch(() => {});
  }
}

/** Configure Amplify from the dashboard config and return its sign-in. */
export function createAuth(config, base) {
  if (config && config.auth && config.auth.type && config.auth.type !== "cognito") {
    throw new SignInError(`unknown auth type ${JSON.stringify(config.auth.type)} in the dashboard config`, "ConfigError");
  }
  configureAmplify(config, base);
  return new AmplifyAuth(config, base);
}
