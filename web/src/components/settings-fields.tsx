import { useEffect, useState } from 'preact/hooks';
import type { RoomAnalysisConfig } from '@lookout/contracts';

/**
 * The room config is edited as the JSON the API stores: every field optional, "unset"
 * meaning "the deployment's default". Inputs address a field by its path; the input id
 * is derived from the same path as the API's error `field`, so an error can point at it.
 */
export type Config = RoomAnalysisConfig;
export type Path = string[];

export interface FieldProps {
  cfg: Config;
  path: Path;
  onChange: (path: Path, value: unknown) => void;
  /** The API error's field (`rules/no_face/frames`), to mark the input invalid. */
  badField?: string | undefined;
}

export const fieldId = (path: Path) => `cfg-${path.join('-')}`;

export function getPath(obj: unknown, path: Path): unknown {
  return path.reduce<unknown>((o, k) => (o && typeof o === 'object' ? (o as Record<string, unknown>)[k] : undefined), obj);
}

/** A copy of `obj` with `path` set (undefined removes it; emptied objects go too). */
export function setPath<T>(obj: T, path: Path, value: unknown): T {
  const [head, ...rest] = path;
  const copy = { ...(obj as Record<string, unknown>) };
  const next = rest.length ? setPath((copy[head!] ?? {}) as object, rest, value) : value;
  if (next === undefined || (typeof next === 'object' && next !== null && Object.keys(next).length === 0)) delete copy[head!];
  else copy[head!] = next;
  return copy as T;
}

/**
 * A number that may be unset. The text typed is kept as typed (a half-typed "0." must not
 * be rewritten) and reported on every input, so nothing depends on the field losing focus.
 */
interface NumberProps extends FieldProps {
  label: string;
  min: number;
  max: number;
  /** 1 for integers (the default), 'any' for decimals. */
  step?: number | 'any';
  /** The default in force when the field is empty. */
  placeholder?: string | number;
  hideLabel?: boolean;
  required?: boolean;
}

export function NumberField(p: NumberProps) {
  const id = fieldId(p.path);
  const stored = getPath(p.cfg, p.path);
  const value = typeof stored === 'number' ? stored : undefined;
  const [text, setText] = useState(value === undefined ? '' : String(value));
  useEffect(() => {
    // Follow changes from outside (load, discard), not the echo of our own input.
    setText((t) => (parse(t) === value ? t : value === undefined ? '' : String(value)));
  }, [value]);
  return (
    <>
      <label for={id} class={p.hideLabel ? 'visually-hidden' : undefined}>
        {p.label}
      </label>
      <input
        id={id}
        type="number"
        inputMode="decimal"
        min={p.min}
        max={p.max}
        step={p.step ?? 1}
        value={text}
        placeholder={p.placeholder === undefined ? 'default' : String(p.placeholder)}
        required={p.required}
        aria-invalid={p.badField === p.path.join('/')}
        onInput={(e) => {
          const raw = e.currentTarget.value;
          setText(raw);
          p.onChange(p.path, parse(raw));
        }}
      />
    </>
  );
}

const parse = (raw: string): number | undefined => (raw.trim() === '' || !Number.isFinite(Number(raw)) ? undefined : Number(raw));

/** A boolean whose default the browser cannot know (it is the deployment's): default / on / off. */
export function TriStateField(p: FieldProps & { label: string; hideLabel?: boolean }) {
  const id = fieldId(p.path);
  const v = getPath(p.cfg, p.path);
  return (
    <>
      <label for={id} class={p.hideLabel ? 'visually-hidden' : undefined}>
        {p.label}
      </label>
      <select id={id} value={v === true ? 'on' : v === false ? 'off' : ''} aria-invalid={p.badField === p.path.join('/')} onChange={(e) => p.onChange(p.path, e.currentTarget.value === '' ? undefined : e.currentTarget.value === 'on')}>
        <option value="">default</option>
        <option value="on">on</option>
        <option value="off">off</option>
      </select>
    </>
  );
}
