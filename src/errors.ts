/**
 * Errors a user can act on. They are printed as one line (an `::error::` annotation in the action,
 * `error: ...` in the CLI), never with a stack trace. Anything else that escapes is a bug in this tool
 * and is reported as such, still without a stack unless debugging is on.
 */
export interface SourceLocation {
  /** Path relative to the workspace, as GitHub annotations expect. */
  file?: string;
  /** 1-based. */
  line?: number;
  /** 1-based. */
  column?: number;
}

export class UserError extends Error {
  constructor(
    message: string,
    readonly location: SourceLocation = {},
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** The config file (or an input) is invalid. */
export class ConfigError extends UserError {}

/** DHIS2 could not be reached, refused us, or answered something we cannot use. */
export class Dhis2Error extends UserError {
  constructor(
    message: string,
    readonly status?: number,
    location: SourceLocation = {},
  ) {
    super(message, location);
  }
}

export function isUserError(e: unknown): e is UserError {
  return e instanceof UserError;
}
