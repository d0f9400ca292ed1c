/**
 * Authenticated-data labels of the secret box, one per kind of secret: a ciphertext sealed
 * for one column does not open as another.
 */
export const SECRET_CONTEXT = {
  accessToken: 'integration-access-token',
  refreshToken: 'integration-refresh-token',
  linearWebhookSecret: 'linear-webhook-secret',
  notionVerificationToken: 'notion-verification-token',
} as const;
