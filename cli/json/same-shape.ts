import type * as z from 'zod';

/** `T` with `readonly` dropped at every depth: the SDK's types are readonly, zod's inferred ones are not. */
type Plain<T> = T extends readonly (infer Item)[]
  ? Plain<Item>[]
  : T extends object
    ? { -readonly [Key in keyof T]: Plain<T[Key]> }
    : T;

/** `T` readonly at every depth: what a command may print (the SDK hands out readonly arrays). */
export type DeepReadonly<T> = T extends readonly (infer Item)[]
  ? readonly DeepReadonly<Item>[]
  : T extends object
    ? { readonly [Key in keyof T]: DeepReadonly<T[Key]> }
    : T;

/** True when `A` and `B` have the same fields, optional the same way, of the same types, at every depth. */
export type SameShape<A, B> = (<T>() => T extends Plain<A> ? 1 : 2) extends <T>() => T extends Plain<B> ? 1 : 2 ? true : false;

/**
 * Returns `schema` unchanged, and fails to compile when its output type is not `SdkType` field for field:
 * a field the SDK adds (or drops, or retypes) then breaks `tsc` here instead of drifting out of the
 * documented CLI output silently.
 * @example const enqueued = sameShapeAs<EnqueuedJob>()(z.object({ ... }));
 */
export function sameShapeAs<SdkType>() {
  return <Schema extends z.ZodType>(
    schema: Schema,
    ..._mismatch: SameShape<z.output<Schema>, SdkType> extends true ? [] : [error: 'the schema differs from the SDK type']
  ): Schema => schema;
}
