// The contract's seed fixture, by name (scripts/lib/seed.ts), and an id no row has.
export * from "../../scripts/lib/seed.ts";
export const MISSING = "00000000-0000-4000-8000-00000000dead";
