import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig, Registry } from '@lookout/service-kit';
import { DetectorConfig } from '../src/config.js';
import { loadModels } from '../src/models/models.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

describe('session options per model', () => {
  it('are logged and exported as lookout_model_session_info for every model the detector loads', async () => {
    // A fixed level: nothing measured, so the test is quick and the same on every machine.
    const config = loadConfig(DetectorConfig, { MODELS_DIR: path.join(ROOT, 'models'), MODEL_CALIBRATION: 'extended' });
    const metrics = new Registry();
    const lines: Array<Record<string, unknown>> = [];
    const log = { info: (o: object) => lines.push(o as Record<string, unknown>), warn: () => undefined };
    const models = await loadModels(config, { log, metrics });
    try {
      const text = await metrics.metrics();
      for (const model of ['fr_detect', 'fr_landmark', 'fr_pose', 'fr_eye', 'fr_expression', 'fr_liveness', 'ppocr_det']) {
        expect(text).toContain(`lookout_model_session_info{model="${model}",optimization="extended",precision="fp32",source="fixed"} 1`);
      }
      expect(lines).toHaveLength(7);
      expect(lines[0]).toMatchObject({ model: 'fr_detect', source: 'fixed', options: { optimization: 'extended', precision: 'fp32', threads: 1 } });
    } finally {
      await models.close();
    }
  });

  it('rejects an unknown MODEL_CALIBRATION', () => {
    expect(() => loadConfig(DetectorConfig, { MODEL_CALIBRATION: 'fastest' })).toThrow(/MODEL_CALIBRATION/);
  });
});
