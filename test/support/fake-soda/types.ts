/**
 * A row as SODA's JSON serves it: every value a string, a null field absent. System fields
 * (`:id`, `:created_at`, `:updated_at`) may be present; the fake server adds them when not.
 */
export type SodaRow = Record<string, string>;
