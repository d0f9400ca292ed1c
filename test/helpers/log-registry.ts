/**
 * Every log line written by an app built in this test file (LogCapture feeds it), so the
 * setup file can check, once per file and therefore for the whole suite, that no key, token,
 * secret or signature was ever logged.
 */
export const capturedLogLines: string[] = [];

/** Shapes of the credentials the suite creates; none may appear in any log line. */
export const secretPatterns: Array<[string, RegExp]> = [
  ['API key', /\bmo_[0-9A-Za-z]{42}\b/],
  ['Svix signing secret', /whsec_[A-Za-z0-9+/=]{16,}/],
  ['session JWT', /eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/],
  ['Svix signature', /v1,[A-Za-z0-9+/]{40,}={0,2}/],
  ['Notion signature', /sha256=[0-9a-f]{64}/],
  ['Linear token', /\blin_(?:api|oauth)_[A-Za-z0-9_]{6,}/],
  ['Notion verification token', /\bsecret_[A-Za-z0-9]{16,}/],
];
