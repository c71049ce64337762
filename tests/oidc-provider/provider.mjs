// A real OpenID provider for the tests: panva's certified oidc-provider (pinned in
// package-lock.json), with one confidential client, PKCE required, a few accounts, and a
// test-only interaction route that logs an account in without a browser.
//
//   node provider.mjs --client-id ID --client-secret SECRET --redirect-uri URI [--redirect-uri URI…]
//                     [--port N] [--issuer URL] [--claims-in-userinfo] [--any-loopback-port]
//
// It listens on 127.0.0.1:PORT (0, the default, picks a free port) and announces ISSUER
// (default http://127.0.0.1:<the port>: give another one when a proxy stands in front of it).
// When listening it prints one line: `ready <issuer> <url it listens on>`. Every option can also
// come from the environment (OIDC_PORT, OIDC_ISSUER, OIDC_CLIENT_ID, OIDC_CLIENT_SECRET,
// OIDC_REDIRECT_URIS comma-separated).
//
// Logging in without a browser: the authorization URL redirects to /interaction/<uid>; a GET
// of /interaction/<uid>/login?account=<id> (same cookies) logs the account in and grants the
// client the openid, email and profile scopes it asked for, then redirects back to the
// authorization endpoint, which redirects to the client's redirect URI with `code` and `state`.
// GET /interaction/<uid> is a page linking each account's login.
//
// Accounts (`sub` is the id): `ana` (ana@example.com, verified), `ben` (ben@example.com, not
// verified). By default the ID token carries the scopes' claims (email, email_verified,
// given_name, family_name), as Google's does; with --claims-in-userinfo it carries only what
// the specification requires and the claims come from the userinfo endpoint. With
// --any-loopback-port the client is registered as a native application, so a redirect URI on
// http://127.0.0.1 matches a registered one whatever its port (RFC 8252, section 7.3): register
// `http://127.0.0.1/callback` before the server whose port is not known yet has started.

import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';

import Provider from 'oidc-provider';

const { values: args } = parseArgs({
  options: {
    port: { type: 'string', default: process.env.OIDC_PORT ?? '0' },
    issuer: { type: 'string', default: process.env.OIDC_ISSUER },
    'client-id': { type: 'string', default: process.env.OIDC_CLIENT_ID },
    'client-secret': { type: 'string', default: process.env.OIDC_CLIENT_SECRET },
    'redirect-uri': {
      type: 'string',
      multiple: true,
      default: (process.env.OIDC_REDIRECT_URIS ?? '').split(',').filter(Boolean),
    },
    'claims-in-userinfo': { type: 'boolean', default: false },
    'any-loopback-port': { type: 'boolean', default: false },
  },
});

for (const required of ['client-id', 'client-secret']) {
  if (!args[required]) {
    console.error(`provider.mjs: --${required} is required`);
    process.exit(2);
  }
}
if (args['redirect-uri'].length === 0) {
  console.error('provider.mjs: at least one --redirect-uri is required');
  process.exit(2);
}

export const ACCOUNTS = {
  ana: {
    email: 'ana@example.com',
    email_verified: true,
    given_name: 'Ana',
    family_name: 'Pérez',
    name: 'Ana Pérez',
  },
  ben: {
    email: 'ben@example.com',
    email_verified: false,
    given_name: 'Ben',
    family_name: 'Gómez',
    name: 'Ben Gómez',
  },
};

const SCOPES = ['openid', 'email', 'profile'];

const server = createServer();
await new Promise((resolve, reject) => {
  server.once('error', reject);
  server.listen(Number(args.port), '127.0.0.1', resolve);
});
const listening = `http://127.0.0.1:${server.address().port}`;
const issuer = args.issuer ?? listening;

// A fresh signing key per run: nothing outside this process can have signed a token.
const signingKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({
  format: 'jwk',
});

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: args['client-id'],
      client_secret: args['client-secret'],
      redirect_uris: args['redirect-uri'],
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
      application_type: args['any-loopback-port'] ? 'native' : 'web',
    },
  ],
  // Every authorization request must carry an S256 code challenge (the only method v9 offers).
  pkce: { required: () => true },
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['given_name', 'family_name', 'name'],
  },
  conformIdTokenClaims: args['claims-in-userinfo'],
  features: {
    devInteractions: { enabled: false },
    userinfo: { enabled: true },
  },
  interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
  jwks: { keys: [{ ...signingKey, kid: randomBytes(8).toString('hex'), use: 'sig', alg: 'RS256' }] },
  cookies: { keys: [randomBytes(32).toString('hex')] },
  async findAccount(_ctx, id) {
    const account = ACCOUNTS[id];
    if (!account) return undefined;
    return { accountId: id, claims: async () => ({ sub: id, ...account }) };
  },
});

function escape(text) {
  return String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

async function interaction(req, res, url) {
  const [, , uid, action] = url.pathname.split('/');
  const details = await provider.interactionDetails(req, res);
  if (details.uid !== uid) {
    res.writeHead(400, { 'content-type': 'text/plain' }).end('unknown interaction');
    return;
  }
  if (action === undefined) {
    const links = Object.keys(ACCOUNTS)
      .map((id) => `<li><a href="/interaction/${escape(uid)}/login?account=${id}">${id}</a></li>`)
      .join('');
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(`<!doctype html><title>Log in</title><ul>${links}</ul>`);
    return;
  }
  const accountId = url.searchParams.get('account');
  if (action !== 'login' || !ACCOUNTS[accountId]) {
    res.writeHead(400, { 'content-type': 'text/plain' }).end('unknown action or account');
    return;
  }
  // Login and consent at once: a grant of the scopes the client asked for (of those we have).
  const grant = new provider.Grant({ accountId, clientId: details.params.client_id });
  const asked = String(details.params.scope ?? '').split(' ');
  grant.addOIDCScope(asked.filter((scope) => SCOPES.includes(scope)).join(' '));
  const grantId = await grant.save();
  await provider.interactionFinished(
    req,
    res,
    { login: { accountId }, consent: { grantId } },
    { mergeWithLastSubmission: false },
  );
}

const callback = provider.callback();
server.on('request', (req, res) => {
  const url = new URL(req.url, listening);
  if (req.method === 'GET' && url.pathname.startsWith('/interaction/')) {
    interaction(req, res, url).catch((error) => {
      console.error(error);
      if (!res.headersSent) res.writeHead(400, { 'content-type': 'text/plain' });
      res.end(String(error.message ?? error));
    });
  } else {
    callback(req, res);
  }
});

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => server.close(() => process.exit(0)));
}

console.log(`ready ${issuer} ${listening}`);
