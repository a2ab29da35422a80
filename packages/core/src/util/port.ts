/**
 * A port's one adapter in this process. A port's `index.ts` never chooses its adapter: the Lambda runtime
 * (`packages/functions/src/runtime.ts`) wires the AWS adapters from the environment, the local stack wires the local
 * ones, and a test wires what it needs. The slot lives on globalThis (see `processState`) so a module reloaded by
 * `npm run dev` sees the same adapter.
 * @example const slot = portSlot<Port>("wattflow.stream", () => new StreamUnavailableError("no stream provided"))
 */
import { processState } from "./global";

export type PortSlot<T> = {
  /** Sets (or, with undefined, clears) the adapter. */
  provide(adapter: T | undefined): void;
  /** Sets an adapter made on first use: a Lambda imports an SDK only when a handler needs it. */
  provideLazily(make: () => Promise<T>): void;
  /** The adapter if one has been made, else undefined (a lazy one not yet made counts as provided: see `provided`). */
  current(): T | undefined;
  /** Whether an adapter, made or lazy, is in place. */
  provided(): boolean;
  /** The adapter, made now if it was provided lazily; throws the port's own error when none was provided. */
  use(): Promise<T>;
};

export function portSlot<T>(name: string, missing: () => Error): PortSlot<T> {
  const state = processState(name, (): { adapter?: T; make?: () => Promise<T> } => ({}));
  return {
    provide(adapter) {
      state.adapter = adapter;
      state.make = undefined;
    },
    provideLazily(make) {
      state.adapter = undefined;
      state.make = make;
    },
    current: () => state.adapter,
    provided: () => state.adapter !== undefined || state.make !== undefined,
    async use() {
      if (state.adapter !== undefined) return state.adapter;
      const make = state.make;
      if (!make) throw missing();
      const adapter = await make();
      // Another caller may have provided something else while this one was being made: theirs wins.
      if (state.make === make) {
        state.adapter = adapter;
        state.make = undefined;
      }
      return state.adapter ?? adapter;
    },
  };
}
