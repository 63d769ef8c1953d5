// The generated database types, by reference rather than by copy: `npm run
// types:gen` keeps the one file current, and a type-only import is erased at
// run time, so nothing outside this package is loaded.
export type { Database, Json } from "../../functions/_shared/database.types.ts";
