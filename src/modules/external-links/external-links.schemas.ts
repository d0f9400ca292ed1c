import { z } from 'zod';
import { externalProviders } from './external-links.table.ts';

export const externalLinkSchema = z
  .object({
    provider: z.enum(externalProviders),
    externalId: z.string(),
    url: z.string().nullable(),
    title: z.string().nullable(),
  })
  .meta({ id: 'ExternalLink', description: 'A link to the item in Linear, Notion or a URL.' });
export type ExternalLink = z.infer<typeof externalLinkSchema>;

export const exampleExternalLink: ExternalLink = {
  provider: 'linear',
  externalId: 'ENG-142',
  url: 'https://linear.app/acme/issue/ENG-142',
  title: 'Fix login redirect',
};
