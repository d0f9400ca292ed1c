import { generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import { listenLoopback, sendJson } from './http-fake.ts';

/** A P-256 signing key as GitHub's secret scanning holds one, with its identifier. */
export interface GithubSigningKey {
  identifier: string;
  privateKey: KeyObject;
  publicPem: string;
}

export function githubSigningKey(identifier: string): GithubSigningKey {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return {
    identifier,
    privateKey,
    publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}

/** `Github-Public-Key-Signature`: base64 of the DER ECDSA signature over the exact body. */
export function githubSignature(key: GithubSigningKey, body: string | Buffer): string {
  return sign('sha256', Buffer.from(body), key.privateKey).toString('base64');
}

/**
 * A loopback stand-in for `GET /meta/public_keys/secret_scanning`: the list it serves can be
 * changed (rotation), and it counts requests.
 */
export async function startGithubKeysFake(initial: GithubSigningKey[]) {
  const state = { keys: [...initial], requests: 0 };
  const server = await listenLoopback(async (req, res) => {
    state.requests++;
    if (req.method !== 'GET' || req.url !== '/meta/public_keys/secret_scanning') {
      sendJson(res, 404, { message: 'Not Found' });
      return;
    }
    sendJson(res, 200, {
      public_keys: state.keys.map((k, i) => ({
        key_identifier: k.identifier,
        key: k.publicPem,
        is_current: i === state.keys.length - 1,
      })),
    });
  });
  return { ...server, keysUrl: `${server.url}/meta/public_keys/secret_scanning`, state };
}
