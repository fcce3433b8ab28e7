// A real OpenID Provider (panva/oidc-provider) on loopback, for the SSO host tests and
// the demo. Usage: node idp.mjs [--port N] [--redirect-uri URI]... [--post-logout-uri URI]...
//                               [--id-token-ttl S] [--access-token-ttl S]
//                               [--id-token-groups-bytes N]
// Prints `listening <port> <issuer>` once it serves. Any login/password is accepted
// (devInteractions); the consent page is shown as usual.
import http from 'node:http';
import { generateKeyPair, exportJWK } from 'jose';
import Provider from 'oidc-provider';

const args = process.argv.slice(2);
const many = (flag) => args.flatMap((a, i) => (a === flag ? [args[i + 1]] : []));
const one = (flag, fallback) => many(flag).at(-1) ?? fallback;

const port = Number(one('--port', '0'));
const idTokenTtl = Number(one('--id-token-ttl', '300'));
const accessTokenTtl = Number(one('--access-token-ttl', String(idTokenTtl)));
const redirectUris = many('--redirect-uri');
const postLogoutUris = many('--post-logout-uri');
const clientId = one('--client-id', 'gatehouse');
const clientSecret = one('--client-secret', 'gatehouse-secret');
const audience = one('--api-audience', 'api://gatehouse');
// Bytes of a `groups` claim put into ID tokens (scope `profile`): big sessions for tests of
// cookie chunking.
const groupsBytes = Number(one('--id-token-groups-bytes', '0'));

const { privateKey } = await generateKeyPair('RS256', { extractable: true });
const jwk = { ...(await exportJWK(privateKey)), kid: 'idp-rs256', alg: 'RS256', use: 'sig' };

const server = http.createServer();
await new Promise((resolve) => server.listen(port, '127.0.0.1', resolve));
const issuer = `http://127.0.0.1:${server.address().port}`;

const provider = new Provider(issuer, {
  clients: [{
    client_id: clientId,
    client_secret: clientSecret,
    redirect_uris: redirectUris.length ? redirectUris : ['http://app.test/oauth2/callback'],
    post_logout_redirect_uris: postLogoutUris,
    grant_types: ['authorization_code', 'refresh_token', 'client_credentials'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
    scope: 'openid profile email offline_access pets:read pets:write',
  }],
  jwks: { keys: [jwk] },
  cookies: { keys: ['gatehouse-test-idp-cookie-key'] },
  ttl: {
    IdToken: idTokenTtl,
    AccessToken: accessTokenTtl,
    ClientCredentials: accessTokenTtl,
    RefreshToken: 86400,
    Session: 86400,
    Grant: 86400,
    Interaction: 600,
  },
  // A browser login gets a refresh token without `offline_access` + `prompt=consent`.
  issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
  // Keep the same refresh token: a browser's parallel requests may refresh at once.
  rotateRefreshToken: false,
  scopes: ['openid', 'profile', 'email', 'offline_access', 'pets:read', 'pets:write'],
  claims: { openid: ['sub'], email: ['email'], profile: ['name', 'groups'] },
  // Scope claims go into the ID token too (they would otherwise be userinfo-only).
  conformIdTokenClaims: groupsBytes === 0,
  findAccount: async (_ctx, sub) => ({
    accountId: sub,
    claims: async () => ({
      sub,
      email: `${sub}@example.test`,
      name: sub,
      ...(groupsBytes > 0
        ? { groups: Array.from({ length: Math.ceil(groupsBytes / 16) }, (_, i) => `group-${String(i).padStart(9, '0')}`) }
        : {}),
    }),
  }),
  features: {
    devInteractions: { enabled: true },
    clientCredentials: { enabled: true },
    rpInitiatedLogout: { enabled: true },
    // client_credentials tokens as JWTs for the API audience, so the gateway can verify them.
    resourceIndicators: {
      enabled: true,
      defaultResource: () => audience,
      useGrantedResource: () => true,
      getResourceServerInfo: () => ({
        scope: 'pets:read pets:write',
        audience,
        accessTokenFormat: 'jwt',
        jwt: { sign: { alg: 'RS256' } },
      }),
    },
  },
  pkce: { required: () => true },
});
provider.proxy = false;
server.on('request', provider.callback());
console.log(`listening ${server.address().port} ${issuer}`);
process.on('SIGTERM', () => process.exit(0));
