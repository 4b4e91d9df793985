/**
 * A mistake in what the user typed: the CLI prints the message (and usage where it
 * helps) and exits with code 2, like a bad option.
 */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}
