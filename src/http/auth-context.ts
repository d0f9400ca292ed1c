/**
 * Who is calling: the two principals the auth layers attach to a request. Defined here, in
 * the shared HTTP layer, so that features depend on this contract and not on each other.
 *
 * - `/api/v1` (API-key auth, modules/api-keys) sets `request.principal`.
 * - `/api/settings` (Clerk session auth, modules/identity) sets `request.sessionUser`.
 */
import { refusal } from './rate-limit.ts';

export const scopes = ['read', 'write', 'delete'] as const;
export type Scope = (typeof scopes)[number];

export interface ApiKeyPrincipal {
  /** api_keys.id of the key used. */
  keyId: string;
  /** users.id (internal uuid) of the key's owner; the key acts as this user. */
  userId: string;
  scopes: readonly Scope[];
  /** A workspace-bound key's workspace (owner's user id = personal, or an organisation id). */
  workspaceId: string | null;
}

export interface SessionUser {
  /** users.id (internal uuid). */
  userId: string;
  clerkUserId: string;
  sessionId: string | null;
  /** organisations.id of the active organisation in the session, when there is one. */
  activeOrganisationId: string | null;
  /** Clerk role in the active organisation, e.g. `org:admin`. */
  activeOrgRole: string | null;
}

declare module 'fastify' {
  interface FastifyRequest {
    principal: ApiKeyPrincipal | null;
    sessionUser: SessionUser | null;
  }
}

/** 403 INSUFFICIENT_SCOPE with the RFC 6750 challenge naming the scope a request needs. */
export const insufficientScope = (needed: Scope) =>
  refusal({
    code: 'INSUFFICIENT_SCOPE',
    status: 403,
    message: `This API key lacks the "${needed}" scope required for this request.`,
    headers: {
      'www-authenticate': `Bearer realm="MONOid", error="insufficient_scope", scope="${needed}", error_description="The request requires the ${needed} scope."`,
    },
  });
