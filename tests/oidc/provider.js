// A real OpenID Connect provider for Undercurrent's tests: the certified
// `oidc-provider` package, on 127.0.0.1 at the port given, with one client
// and a few people. Its development login form takes any password; the
// person is the login name.
//
// For the tests of what Undercurrent must refuse, the provider can be told
// to misbehave, still signing with its own keys:
//   POST /__test/mode/NAME  the next ID tokens are re-signed with one claim
//                           wrong: wrong-nonce, wrong-audience, expired,
//                           unpublished-key (a key not in the JWKS);
//                           normal puts things back.
//   POST /__test/rotate     a new signing key: published in the JWKS (next
//                           to the old one) and used for every ID token.
//
// Configuration (environment): OIDC_PORT, OIDC_REDIRECT_URI,
// OIDC_POST_LOGOUT_URI, OIDC_CLIENT_ID, OIDC_CLIENT_SECRET, OIDC_USERS (JSON:
// {"alice": {"email": "alice@corp.example", "groups": ["uc-admins"]}}).
import http from 'node:http';
import Provider from 'oidc-provider';
import * as jose from 'jose';

const port = Number(process.env.OIDC_PORT || 4000);
const issuer = `http://127.0.0.1:${port}`;
const users = JSON.parse(process.env.OIDC_USERS || '{}');

async function signingKey(kid) {
  const { privateKey } = await jose.generateKeyPair('RS256', { extractable: true });
  const jwk = await jose.exportJWK(privateKey);
  return { ...jwk, kid, alg: 'RS256', use: 'sig' };
}

function publicPart(jwk) {
  const { kty, n, e, kid, alg, use } = jwk;
  return { kty, n, e, kid, alg, use };
}

const first = await signingKey('key-1');
const rotatedKey = await signingKey('key-2');
const unpublished = await signingKey('key-unpublished');
let rotated = false;
let mode = 'normal';

const provider = new Provider(issuer, {
  clients: [{
    client_id: process.env.OIDC_CLIENT_ID || 'undercurrent',
    client_secret: process.env.OIDC_CLIENT_SECRET || 'test-secret',
    redirect_uris: [process.env.OIDC_REDIRECT_URI || 'http://127.0.0.1:8080/auth/oidc/corp/callback'],
    post_logout_redirect_uris: [process.env.OIDC_POST_LOGOUT_URI || 'http://127.0.0.1:8080/login'],
    grant_types: ['authorization_code'],
    response_types: ['code'],
  }],
  jwks: { keys: [first] },
  cookies: { keys: ['undercurrent-test-cookie-key'] },
  claims: { openid: ['sub', 'groups'], email: ['email', 'email_verified'], profile: ['name'] },
  // Claims in the ID token itself (the groups claim is read from there).
  conformIdTokenClaims: false,
  pkce: { required: () => true },
  async findAccount(ctx, id) {
    const user = users[id] || { email: `${id}@corp.example`, groups: [] };
    return {
      accountId: id,
      async claims() {
        return {
          sub: id,
          email: user.email,
          email_verified: user.email_verified !== false,
          name: user.name || id,
          groups: user.groups || [],
        };
      },
    };
  },
});

async function resign(idToken) {
  const payload = jose.decodeJwt(idToken);
  let key = rotated ? rotatedKey : first;
  if (mode === 'wrong-nonce') payload.nonce = 'not-the-nonce-that-was-sent';
  if (mode === 'wrong-audience') payload.aud = 'some-other-client';
  if (mode === 'expired') {
    const now = Math.floor(Date.now() / 1000);
    payload.iat = now - 7200;
    payload.exp = now - 3600;
  }
  if (mode === 'unpublished-key') key = unpublished;
  const privateKey = await jose.importJWK(key, 'RS256');
  return new jose.SignJWT(payload).setProtectedHeader({ alg: 'RS256', kid: key.kid }).sign(privateKey);
}

provider.use(async (ctx, next) => {
  await next();
  if (ctx.path === '/token' && ctx.body && ctx.body.id_token && (mode !== 'normal' || rotated)) {
    ctx.body = { ...ctx.body, id_token: await resign(ctx.body.id_token) };
  }
  if (ctx.path === '/jwks' && rotated) {
    ctx.body = { keys: [publicPart(first), publicPart(rotatedKey)] };
  }
});

const callback = provider.callback();
http.createServer((req, res) => {
  const test = req.method === 'POST' && req.url.startsWith('/__test/');
  if (test && req.url === '/__test/rotate') {
    rotated = true;
    res.end('rotated');
  } else if (test && req.url.startsWith('/__test/mode/')) {
    mode = req.url.slice('/__test/mode/'.length);
    res.end(mode);
  } else {
    callback(req, res);
  }
}).listen(port, '127.0.0.1', () => console.log(`oidc-provider listening on ${issuer}`));
