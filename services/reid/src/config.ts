import { configSchema } from '@lookout/service-kit';

export const ReidConfig = configSchema(9103, {});
