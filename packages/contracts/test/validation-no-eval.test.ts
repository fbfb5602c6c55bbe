import { Type } from '@sinclair/typebox';
// Types only: erased, so the module is first loaded by the dynamic import below.
import type * as ContractsModule from '../src/index.js';

/**
 * The web app runs under a Content-Security-Policy without 'unsafe-eval', where
 * `new Function` throws. Its build defines __LOOKOUT_NO_EVAL__ (web/vite.config.ts): then
 * no validator may compile code, and each must still refuse and name fields as compiled
 * ones do. Loaded here with Function made to throw, as Chromium does under the CSP.
 */
type Contracts = typeof ContractsModule;
const g = globalThis as unknown as { __LOOKOUT_NO_EVAL__?: boolean; Function: FunctionConstructor };

describe('validators under a CSP without unsafe-eval', () => {
  let contracts: Contracts;
  let evals = 0;

  beforeAll(async () => {
    g.__LOOKOUT_NO_EVAL__ = true;
    const original = g.Function;
    const refuse = () => {
      evals++;
      throw new EvalError("Refused to evaluate a string as JavaScript because 'unsafe-eval' is not allowed");
    };
    g.Function = new Proxy(original, { construct: refuse, apply: refuse });
    try {
      contracts = await import('../src/index.js');
    } finally {
      g.Function = original;
    }
  });

  afterAll(() => {
    delete g.__LOOKOUT_NO_EVAL__;
  });

  it('loads every contract without compiling code', () => {
    expect(evals).toBe(0);
    expect(typeof contracts.clientMessage.parse).toBe('function');
  });

  it('accepts and refuses as the compiled validators do, naming the field', () => {
    const v = contracts.validator('thing', Type.Object({ a: Type.Integer({ minimum: 1 }), b: Type.Optional(Type.String()) }, { additionalProperties: false }));
    expect(v.is({ a: 2 })).toBe(true);
    expect(v.parse({ a: 2, b: 'x' })).toEqual({ a: 2, b: 'x' });
    expect(() => v.parse({ a: 0 })).toThrow(/thing: a: /);
    expect(() => v.parse({ a: 1, c: 1 })).toThrow(contracts.ValidationError);
    expect(contracts.clientMessage.parse({ type: 'ping' })).toEqual({ type: 'ping' });
    expect(() => contracts.clientMessage.parse({ type: 'join' })).toThrow(contracts.ValidationError);
    expect(evals).toBe(0);
  });
});
