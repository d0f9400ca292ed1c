import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { AppError, badRequest, errorResponses } from '../../http/errors.ts';
import { useRawBody } from '../../http/raw-body.ts';
import {
  handleLeakReport,
  leakReportSchema,
  verifyGithubSignature,
} from './leak-report.service.ts';

const invalidSignature = () =>
  new AppError({
    code: 'UNAUTHORIZED',
    status: 401,
    message: 'The GitHub secret-scanning signature is missing or invalid.',
  });

const feedbackSchema = z
  .array(
    z.object({
      token_hash: z.string().describe('SHA-256 of the token, hex'),
      token_type: z.string(),
      label: z.enum(['true_positive', 'false_positive']),
    }),
  )
  .meta({ id: 'SecretScanningFeedback' });

function header(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  return typeof value === 'string' ? value : undefined;
}

/**
 * `POST /webhooks/github/secret-scanning`: GitHub's secret-scanning partner reports. The
 * signature (ECDSA P-256, key named by `Github-Public-Key-Identifier`) is checked over the raw
 * bytes before the body is parsed; verified `mo_` keys are revoked at once.
 */
export async function leakReportRoutes(app: FastifyInstance): Promise<void> {
  useRawBody(app, { bodyLimit: app.config.WEBHOOK_BODY_LIMIT_BYTES });
  const { hasher, verifier, githubKeys: keys } = app.apiKeys;

  app.withTypeProvider<ZodTypeProvider>().post(
    '',
    {
      schema: {
        tags: ['Webhooks'],
        summary: 'Leaked-key reports from GitHub secret scanning',
        description:
          'A JSON array of {token, type, url, source}, signed by GitHub (Github-Public-Key-Identifier, ' +
          'Github-Public-Key-Signature). Every genuine mo_ key in it is revoked at once; the answer ' +
          'labels each token true_positive or false_positive.',
        response: { 200: feedbackSchema, ...errorResponses(400, 401, 413, 429, 503) },
      },
    },
    async (request) => {
      const identifier = header(request, 'github-public-key-identifier');
      const signature = header(request, 'github-public-key-signature');
      const raw = request.rawBody;
      if (!identifier || !signature || !raw || identifier.length > 200) throw invalidSignature();
      const key = await keys.get(identifier);
      if (!key || !verifyGithubSignature({ body: raw, signature, key })) {
        // Never log the signature or the body of an unverified report.
        request.log.warn('secret-scanning report rejected: unknown key or bad signature');
        throw invalidSignature();
      }
      let json: unknown;
      try {
        json = JSON.parse(raw.toString('utf8'));
      } catch {
        throw badRequest('The report is not JSON.');
      }
      const report = leakReportSchema.safeParse(json);
      if (!report.success) {
        throw badRequest('The report is not an array of {token, type, url, source}.');
      }
      const feedback = await handleLeakReport(
        { database: app.database, hasher, verifier },
        report.data,
      );
      const revoked = feedback.filter((f) => f.label === 'true_positive').length;
      request.log.info({ tokens: feedback.length, genuine: revoked }, 'secret-scanning report');
      return feedback;
    },
  );
}
