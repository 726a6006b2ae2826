// The dashboard's client modules (web/src) under node: Cognito sign-in and the AppSync endpoint rules.
import { readFileSync } from "node:fs";
import { CognitoAuth, createAuth, LocalAuth } from "../../web/src/auth.js";
import { realtimeEndpoint } from "../../web/src/realtime.js";
import { GraphQLClient, describeError } from "../../web/src/api.js";

const input = JSON.parse(readFileSync(0, "utf8"));
const out = {};

const auth = createAuth({ type: "cognito", region: "ap-south-1", clientId: input.clientId, endpoint: input.cognitoUrl });
out.kind = auth instanceof CognitoAuth ? "cognito" : "other";
const session = await auth.signIn({ username: input.username, password: input.password });
out.session = { username: session.username, sub: session.sub, hasRefresh: Boolean(session.refreshToken), expiresAt: session.expiresAt };
const api = new GraphQLClient({ url: input.graphqlUrl, authorization: () => session.token });
out.me = (await api.request("{ me { id username } }")).me;
const refreshed = await auth.refresh(session);
out.refreshedMe = (await new GraphQLClient({ url: input.graphqlUrl, authorization: () => refreshed.token }).request("{ me { id } }")).me;
try {
  await auth.signIn({ username: input.username, password: "wrong-Password-1" });
  out.wrongPassword = null;
} catch (error) {
  out.wrongPassword = { errorType: error.errorType, message: error.message };
}
try {
  await new GraphQLClient({ url: input.graphqlUrl, authorization: () => "expired.or.bad" }).request("{ me { id } }");
} catch (error) {
  out.badToken = { ...describeError(error), unauthorized: error.unauthorized };
}
out.local = createAuth({ type: "local", usersUrl: "/local/users" }, "http://127.0.0.1:4000/") instanceof LocalAuth;
out.endpoints = [
  realtimeEndpoint("https://abc123.appsync-api.ap-south-1.amazonaws.com/graphql"),
  realtimeEndpoint("/graphql", "/graphql", "http://127.0.0.1:4000/"),
  realtimeEndpoint("https://api.example.in/graphql", "wss://api.example.in/graphql/realtime"),
];
process.stdout.write(JSON.stringify(out));
