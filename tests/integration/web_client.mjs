// The dashboard's client modules (web/src) under node: Cognito sign-in through Amplify v6 against the stack's
// Cognito (moto) as userPoolEndpoint, GraphQL through Amplify's client, and the AppSync endpoint rules.
import { readFileSync } from "node:fs";
import { AmplifyAuth, createAuth } from "../../web/src/auth.js";
import { realtimeEndpoint } from "../../web/src/realtime.js";
import { GraphQLClient, describeError } from "../../web/src/api.js";

const input = JSON.parse(readFileSync(0, "utf8"));
const out = {};

const config = {
  graphqlUrl: input.graphqlUrl,
  region: "ap-south-1",
  auth: {
    type: "cognito",
    userPoolId: input.userPoolId,
    userPoolClientId: input.clientId,
    userPoolEndpoint: input.cognitoUrl,
    authFlowType: "USER_PASSWORD_AUTH",
  },
};
const auth = createAuth(config);
out.kind = auth instanceof AmplifyAuth ? auth.kind : "other";
out.needsPassword = auth.needsPassword;
const session = await auth.signIn({ username: input.username, password: input.password });
out.session = { username: session.username, sub: session.sub, expiresAt: session.expiresAt };
let token = session.token;
const api = new GraphQLClient({ url: input.graphqlUrl, authorization: () => token });
out.me = (await api.request("{ me { id username } }")).me;
const refreshed = await auth.refresh(session);
out.refreshedChanged = refreshed.token !== session.token;
token = refreshed.token;
out.refreshedMe = (await api.request("{ me { id } }")).me;
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
out.local = createAuth({ ...config, auth: { ...config.auth, localUsersUrl: "/local/users" } }, "http://127.0.0.1:4000/").kind;
out.endpoints = [
  realtimeEndpoint("https://abcdefghijklmnopqrstuvwxyz.appsync-api.ap-south-1.amazonaws.com/graphql"),
  realtimeEndpoint("/graphql", undefined, "http://127.0.0.1:4000/"),
  realtimeEndpoint("https://api.example.in/graphql"),
];
process.stdout.write(JSON.stringify(out));
